/**
 * Runbook 004: `kubectl get svc -n ingress-nginx # LoadBalancer Service for the controller`.
 * The ingress controller is reached through its own LoadBalancer Service (ingress-nginx's
 * chart: `ingress-nginx-controller`, labelled like the pods); one without an address means
 * nothing outside the cluster reaches the controller, however healthy its pods are.
 */
import type { Pod } from '../../cluster/kube-types.js';
import { controllerOfPod, type KnownController } from '../../cluster/north-south/controllers.js';
import type { NorthSouthView } from '../../cluster/north-south/view.js';

export function pendingControllerLoadBalancer(
  ns: NorthSouthView,
  controller: KnownController,
  pods: readonly Pod[],
): { summary: string; evidence: string[] } | undefined {
  if (ns.controllerServices.state === 'missing') return undefined;
  const namespaces = new Set(pods.map((p) => p.metadata.namespace));
  const lbs = ns.controllerServices.value.filter(
    (s) =>
      s.spec.type === 'LoadBalancer' &&
      namespaces.has(s.metadata.namespace) &&
      controllerOfPod(s) === controller,
  );
  const address = (s: (typeof lbs)[number]) =>
    (s.status?.loadBalancer?.ingress ?? []).map((i) => i.hostname ?? i.ip ?? '').filter(Boolean);
  if (lbs.length === 0 || lbs.some((s) => address(s).length > 0)) return undefined;
  const names = lbs.map((s) => `${s.metadata.namespace}/${s.metadata.name}`);
  return {
    summary: `the ${controller.name} controller's LoadBalancer Service ${names.join(', ')} has no address: nothing outside the cluster reaches the controller`,
    evidence: lbs.map(
      (s) =>
        `Service ${s.metadata.namespace}/${s.metadata.name}: spec.type LoadBalancer${s.spec.loadBalancerClass ? ` (loadBalancerClass ${s.spec.loadBalancerClass})` : ''}, status.loadBalancer.ingress empty`,
    ),
  };
}
