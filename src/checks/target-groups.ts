/**
 * On EKS, the AWS Load Balancer Controller registers a Service's endpoints with an ELB
 * target group through a TargetGroupBinding (elbv2.k8s.aws/v1beta1): `spec.serviceRef`
 * {name, port} and `spec.targetGroupARN`. Runbook 004: "Regional LB partial outage — stale
 * target group registration". A binding to a port the Service does not have registers
 * nothing. The targets' health is read where the cluster mirrors it (the pods' target-health
 * readiness gate, lib/target-health.ts); otherwise it lives only in the ELB API and kproxy
 * says so rather than guess.
 */
import type { Pod, Service } from '../cluster/kube-types.js';
import {
  controllerForIngressClass,
  controllerForLoadBalancerClass,
} from '../cluster/north-south/controllers.js';
import { routeBackends, type TargetGroupBinding } from '../cluster/north-south/types.js';
import type { ClusterView } from '../cluster/view.js';
import { describePorts } from './lib/backends.js';
import { targetHealthOf, targetHealthPrefix } from './lib/target-health.js';
import type { Check } from './types.js';
import { finding } from './types.js';

const lbc = 'aws-load-balancer-controller';

export const targetGroups: Check = {
  id: 'aws.target-groups',
  domain: 'north-south',
  title: 'AWS target group bindings',
  run(view) {
    const ns = view.northSouth;
    if (!ns || !usesAwsLbc(view)) return finding(this, 'skip', 'no AWS Load Balancer Controller in the path');
    if (ns.targetGroupBindings.state === 'missing')
      return finding(this, 'unknown', `cannot read TargetGroupBindings: ${ns.targetGroupBindings.reason}`);
    if (ns.services.state === 'missing')
      return finding(this, 'unknown', `cannot read the Services: ${ns.services.reason}`);
    const names = backendServices(view);
    const services = ns.services.value.filter((s) => names.has(s.metadata.name));
    const bindings = ns.targetGroupBindings.value.filter((b) => names.has(b.spec.serviceRef.name));
    if (bindings.length === 0)
      return finding(
        this,
        'warn',
        `no TargetGroupBinding for ${[...names].join(', ')}: the controller has registered no target group for them`,
        { evidence: bindingEvents(view) },
      );
    const pods = view.namespacePods.state === 'collected' ? view.namespacePods.value : [];
    const judged = bindings.map((b) => judgeBinding(b, services, pods));
    const evidence = [...judged.flatMap((j) => j.evidence), ...bindingEvents(view)];
    const broken = judged.filter((j) => j.problem);
    if (broken.length > 0)
      return finding(this, 'fail', broken.map((j) => j.problem).join('; '), {
        evidence,
        suspect: {
          category: 'load_balancer',
          score: 0.8,
          detail: broken.map((j) => j.detail).join('; '),
          nodes: [],
        },
      });
    const unknownHealth = judged.filter((j) => !j.healthKnown).map((j) => j.name);
    const summary = `${bindings.length} TargetGroupBinding(s) match their Service ports${
      unknownHealth.length > 0
        ? `; target health unknown for ${unknownHealth.join(', ')} (no ${targetHealthPrefix} readiness gate on the pods: it is only in the ELB API, DescribeTargetHealth)`
        : '; every target healthy'
    }`;
    return finding(this, evidence.some((e) => e.startsWith('Event Warning')) ? 'warn' : 'pass', summary, {
      evidence,
    });
  },
};

interface BindingVerdict {
  readonly name: string;
  readonly evidence: string[];
  /** Set when the binding registers nothing or its targets are unhealthy. */
  readonly problem?: string;
  readonly detail?: string;
  readonly healthKnown: boolean;
}

/** One binding: its Service port, then its targets' health where the pods mirror it. */
function judgeBinding(
  b: TargetGroupBinding,
  services: readonly Service[],
  pods: readonly Pod[],
): BindingVerdict {
  const name = b.metadata.name;
  const svc = services.find((s) => s.metadata.name === b.spec.serviceRef.name);
  const port = b.spec.serviceRef.port;
  const quote = `TargetGroupBinding ${name}: serviceRef ${b.spec.serviceRef.name}:${port} → ${b.spec.targetGroupARN ?? '(no ARN)'}`;
  if (!svc || !hasPort(svc, port)) {
    const why = svc
      ? `not a port of Service ${svc.metadata.name} (its ports: ${describePorts(svc)})`
      : `Service ${b.spec.serviceRef.name} does not exist`;
    return {
      name,
      evidence: [`${quote}: ${why}`],
      problem: `TargetGroupBinding ${name} registers no targets: the Service port it names does not exist`,
      detail: `${quote}: ${why}`,
      healthKnown: false,
    };
  }
  const health = targetHealthOf(name, pods);
  if (!health) return { name, evidence: [quote], healthKnown: false };
  const evidence = [
    `${quote}: ${health.healthy.length} healthy, ${health.unhealthy.length} unhealthy, ${health.pending.length} not yet probed target(s) (pod condition ${targetHealthPrefix}/${name})`,
    ...health.unhealthy
      .slice(0, 3)
      .map((u) => `Pod ${u.pod}: ${targetHealthPrefix}/${name}=False ${u.reason}: ${u.message}`),
  ];
  if (health.unhealthy.length === 0) return { name, evidence, healthKnown: true };
  const first = health.unhealthy[0];
  return {
    name,
    evidence,
    problem: `${health.unhealthy.length} unhealthy target(s) in ${name}`,
    detail: `target group of ${name}: ${health.unhealthy.length} of ${health.healthy.length + health.unhealthy.length + health.pending.length} target(s) unhealthy (${first?.pod}: ${first?.reason}: ${first?.message})`,
    healthKnown: true,
  };
}

function hasPort(service: Service, port: number | string): boolean {
  return (service.spec.ports ?? []).some((p) =>
    typeof port === 'number' ? p.port === port : p.name === port,
  );
}

/** The target Service and the route's backends. */
function backendServices(view: ClusterView): Set<string> {
  const names = new Set<string>(view.target.service ? [view.target.service] : []);
  const route = view.northSouth?.route;
  if (route?.state === 'collected' && route.value)
    for (const b of routeBackends(route.value.object, route.value.kind)) names.add(b.service);
  return names;
}

/** Whether the AWS Load Balancer Controller serves this path: ALB IngressClass, NLB class, or its annotation. */
function usesAwsLbc(view: ClusterView): boolean {
  const ns = view.northSouth;
  const service = view.service.state === 'collected' ? view.service.value : undefined;
  if (
    service?.spec.loadBalancerClass &&
    controllerForLoadBalancerClass(service.spec.loadBalancerClass)?.name === lbc
  )
    return true;
  // aws-load-balancer-controller docs/guide/service/annotations.md: `external` hands the Service to the controller.
  if (service?.metadata.annotations?.['service.beta.kubernetes.io/aws-load-balancer-type'] === 'external')
    return true;
  const route = ns?.route;
  if (
    route?.state !== 'collected' ||
    route.value?.kind !== 'Ingress' ||
    ns?.ingressClasses.state !== 'collected'
  )
    return false;
  const name = route.value.object.spec.ingressClassName;
  const cls = ns.ingressClasses.value.find((c) => c.metadata.name === name);
  return controllerForIngressClass(cls?.spec?.controller ?? '')?.name === lbc;
}

function bindingEvents(view: ClusterView): string[] {
  if (view.events.state === 'missing') return [];
  return view.events.value
    .filter((e) => e.involvedObject.kind === 'TargetGroupBinding' && e.type === 'Warning')
    .slice(-3)
    .map(
      (e) =>
        `Event Warning ${e.reason ?? ''} TargetGroupBinding/${e.involvedObject.name ?? ''}: ${e.message ?? ''}`,
    );
}
