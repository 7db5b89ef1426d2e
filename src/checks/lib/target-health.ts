/**
 * ELB target health as the AWS Load Balancer Controller mirrors it into the cluster: with
 * pod readiness gate injection on, each backend pod carries the condition
 * `target-health.elbv2.k8s.aws/<TargetGroupBinding name>`, True when the target is healthy,
 * False with the ELB's reason and description otherwise (aws-load-balancer-controller
 * pkg/targetgroupbinding resource_manager.go `updateTargetHealthPodConditionForPod`,
 * utils.go `BuildTargetHealthPodConditionType`). Without the gate the health lives only in
 * the ELB API (DescribeTargetHealth): unknown to kproxy, and said so.
 */
import type { Pod } from '../../cluster/kube-types.js';
import { podRef } from './pods.js';

export const targetHealthPrefix = 'target-health.elbv2.k8s.aws';

export interface TargetHealth {
  readonly healthy: readonly string[];
  readonly unhealthy: readonly { pod: string; reason: string; message: string }[];
  readonly pending: readonly string[];
}

/** The targets' health of one binding, or undefined when no pod carries its readiness gate. */
export function targetHealthOf(binding: string, pods: readonly Pod[]): TargetHealth | undefined {
  const type = `${targetHealthPrefix}/${binding}`;
  const gated = pods.filter(
    (p) =>
      ((p.spec as { readinessGates?: { conditionType?: string }[] }).readinessGates ?? []).some(
        (g) => g.conditionType === type,
      ) || (p.status?.conditions ?? []).some((c) => c.type === type),
  );
  if (gated.length === 0) return undefined;
  const healthy: string[] = [];
  const unhealthy: { pod: string; reason: string; message: string }[] = [];
  const pending: string[] = [];
  for (const pod of gated) {
    const c = (pod.status?.conditions ?? []).find((x) => x.type === type);
    if (c?.status === 'True') healthy.push(podRef(pod));
    else if (c?.status === 'False')
      unhealthy.push({ pod: podRef(pod), reason: c.reason ?? '', message: c.message ?? '' });
    else pending.push(podRef(pod));
  }
  return { healthy, unhealthy, pending };
}
