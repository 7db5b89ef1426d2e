/**
 * On EKS, the AWS Load Balancer Controller registers a Service's endpoints with an ELB
 * target group through a TargetGroupBinding (elbv2.k8s.aws/v1beta1): `spec.serviceRef`
 * {name, port} and `spec.targetGroupARN`. Runbook 004: "Regional LB partial outage — stale
 * target group registration". A binding to a port the Service does not have registers
 * nothing. The targets' health lives in the ELB API (DescribeTargetHealth), not in the
 * cluster: kproxy says so rather than guess.
 */
import type { Service } from '../cluster/kube-types.js';
import {
  controllerForIngressClass,
  controllerForLoadBalancerClass,
} from '../cluster/north-south/controllers.js';
import { routeBackends } from '../cluster/north-south/types.js';
import type { ClusterView } from '../cluster/view.js';
import { describePorts } from './lib/backends.js';
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
    const evidence: string[] = [];
    const bad: string[] = [];
    for (const b of bindings) {
      const svc = services.find((s) => s.metadata.name === b.spec.serviceRef.name);
      const port = b.spec.serviceRef.port;
      const quote = `TargetGroupBinding ${b.metadata.name}: serviceRef ${b.spec.serviceRef.name}:${port} → ${b.spec.targetGroupARN ?? '(no ARN)'}`;
      if (!svc) {
        bad.push(b.metadata.name);
        evidence.push(`${quote}: Service ${b.spec.serviceRef.name} does not exist`);
      } else if (!hasPort(svc, port)) {
        bad.push(b.metadata.name);
        evidence.push(
          `${quote}: not a port of Service ${svc.metadata.name} (its ports: ${describePorts(svc)})`,
        );
      } else evidence.push(quote);
    }
    evidence.push(...bindingEvents(view));
    if (bad.length > 0)
      return finding(
        this,
        'fail',
        `TargetGroupBinding(s) ${bad.join(', ')} register no targets: the Service port they name does not exist`,
        {
          evidence,
          suspect: {
            category: 'load_balancer',
            score: 0.8,
            detail: evidence.find((e) => /does not exist|not a port/.test(e)) ?? '',
            nodes: [],
          },
        },
      );
    if (bindings.length === 0)
      return finding(
        this,
        'warn',
        `no TargetGroupBinding for ${[...names].join(', ')}: the controller has registered no target group for them`,
        { evidence },
      );
    return finding(
      this,
      evidence.some((e) => e.startsWith('Event Warning')) ? 'warn' : 'pass',
      `${bindings.length} TargetGroupBinding(s) match their Service ports; target health is not readable from the cluster (ELB DescribeTargetHealth)`,
      { evidence },
    );
  },
};

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
