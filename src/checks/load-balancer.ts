/**
 * Runbook 004: a LoadBalancer Service stuck pending — no `status.loadBalancer.ingress`
 * after provisioning should have finished — with its events (`kubectl describe svc`:
 * `SyncLoadBalancerFailed` from the cloud provider's service controller, `FailedDeployModel`
 * and `FailedBuildModel` from the AWS Load Balancer Controller) and its
 * `spec.loadBalancerClass`: "Wrong class leaves Service pending forever on multi-controller
 * clusters".
 */
import type { KubeEvent, Service } from '../cluster/kube-types.js';
import { controllerForLoadBalancerClass, controllerOfPod } from '../cluster/north-south/controllers.js';
import type { ClusterView } from '../cluster/view.js';
import { isPodReady } from './lib/pods.js';
import type { Check } from './types.js';
import { finding } from './types.js';

/** Cloud load balancers take a minute or two; pending longer than this is stuck. */
const provisioningMs = 5 * 60 * 1000;

export const loadBalancer: Check = {
  id: 'service.load-balancer',
  domain: 'north-south',
  title: 'LoadBalancer provisioning',
  run(view) {
    const service = view.service.state === 'collected' ? view.service.value : undefined;
    if (service?.spec.type !== 'LoadBalancer')
      return finding(this, 'skip', 'the target Service is not of type LoadBalancer');
    const ref = `Service ${service.metadata.namespace ?? view.target.namespace}/${service.metadata.name}`;
    const addresses = (service.status?.loadBalancer?.ingress ?? [])
      .map((i) => i.hostname ?? i.ip ?? '')
      .filter(Boolean);
    if (addresses.length > 0)
      return finding(this, 'pass', `${ref}: load balancer provisioned (${addresses.join(', ')})`, {
        evidence: [`${ref}: status.loadBalancer.ingress ${addresses.join(', ')}`],
      });
    const evidence = [`${ref}: spec.type LoadBalancer, status.loadBalancer.ingress empty`];
    const events = serviceEvents(view, service);
    evidence.push(...events.map(quoteEvent));
    const cls = service.spec.loadBalancerClass;
    const classNote = cls ? classProblem(view, cls) : undefined;
    if (cls) evidence.push(`${ref}: spec.loadBalancerClass ${cls}${classNote ? ` — ${classNote}` : ''}`);
    const created = Date.parse(service.metadata.creationTimestamp ?? '');
    const age = Number.isNaN(created) ? Number.POSITIVE_INFINITY : view.observedAt.getTime() - created;
    if (age < provisioningMs && !events.some((e) => e.type === 'Warning'))
      return finding(
        this,
        'warn',
        `${ref}: load balancer still provisioning (${Math.round(age / 1000)} s old)`,
        { evidence },
      );
    const why =
      classNote ??
      events
        .filter((e) => e.type === 'Warning')
        .map(quoteEvent)
        .at(-1) ??
      'no event explains it';
    return finding(
      this,
      'fail',
      `${ref}: load balancer pending — no address${Number.isFinite(age) ? ` ${duration(age)} after the Service was created` : ''}`,
      {
        evidence,
        suspect: {
          category: 'load_balancer',
          score: 0.8,
          detail: `${ref} has no load balancer: ${why}`,
          nodes: [],
        },
      },
    );
  },
};

function serviceEvents(view: ClusterView, service: Service): KubeEvent[] {
  if (view.events.state === 'missing') return [];
  return view.events.value
    .filter(
      (e) =>
        e.involvedObject.kind === 'Service' &&
        e.involvedObject.name === service.metadata.name &&
        (e.involvedObject.namespace ?? e.metadata.namespace) ===
          (service.metadata.namespace ?? view.target.namespace),
    )
    .slice(-5);
}

function quoteEvent(e: KubeEvent): string {
  return `Event ${e.type ?? ''} ${e.reason ?? ''}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}: ${e.message ?? ''}`.replace(
    /\s+/g,
    ' ',
  );
}

/**
 * A class only its controller provisions: a known class whose controller has no Ready pod,
 * or a class kproxy does not know (said as such: its controller may run where kproxy cannot see).
 */
function classProblem(view: ClusterView, cls: string): string | undefined {
  const controller = controllerForLoadBalancerClass(cls);
  if (!controller)
    return `no controller kproxy knows implements this class; the Service stays pending until one does`;
  const pods = view.northSouth?.controllerPods;
  if (!pods || pods.state === 'missing') return undefined;
  const own = pods.value.filter((p) => controllerOfPod(p) === controller);
  if (own.length === 0) return `no ${controller.name} pods run: nothing provisions this class`;
  if (!own.some(isPodReady)) return `no ${controller.name} pod is Ready: nothing provisions this class`;
  return undefined;
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}
