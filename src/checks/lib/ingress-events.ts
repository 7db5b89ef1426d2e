/**
 * Whether the controller failed to reconcile the Ingress, from the events it records on it:
 * the AWS Load Balancer Controller records Warning `FailedBuildModel` / `FailedDeployModel`
 * ("Failed deploy model due to …") and Normal `SuccessfullyReconciled` on each Ingress of
 * the group (aws-load-balancer-controller pkg/k8s/events.go, controllers/ingress
 * group_controller.go `recordIngressGroupEvent`). A Warning newer than the last success and
 * recent is the failure; an older one is history.
 */
import type { KubeEvent } from '../../cluster/kube-types.js';
import type { RouteRef } from '../../cluster/north-south/types.js';
import type { ClusterView } from '../../cluster/view.js';

const recentMs = 30 * 60 * 1000;

export function reconcileFailure(view: ClusterView, ref: RouteRef): string | undefined {
  if (view.events.state === 'missing') return undefined;
  const at = (e: KubeEvent) => Date.parse(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? '');
  const own = view.events.value
    .filter(
      (e) =>
        e.involvedObject.kind === ref.kind &&
        e.involvedObject.name === ref.name &&
        (e.involvedObject.namespace ?? e.metadata.namespace) === ref.namespace &&
        !Number.isNaN(at(e)),
    )
    .sort((a, b) => at(a) - at(b));
  const lastSuccess = own.filter((e) => e.reason === 'SuccessfullyReconciled').at(-1);
  const lastWarning = own.filter((e) => e.type === 'Warning').at(-1);
  if (!lastWarning) return undefined;
  if (lastSuccess && at(lastSuccess) >= at(lastWarning)) return undefined;
  if (at(lastWarning) < view.observedAt.getTime() - recentMs) return undefined;
  return `Event Warning ${lastWarning.reason ?? ''}${(lastWarning.count ?? 1) > 1 ? ` (x${lastWarning.count})` : ''} ${ref.kind}/${ref.name}: ${lastWarning.message ?? ''}`;
}
