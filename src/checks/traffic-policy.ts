import type { Service } from '../cluster/kube-types.js';
import { serviceRef, serviceUnavailable, targetService } from './lib/service.js';
import type { Check } from './types.js';
import { finding } from './types.js';

/**
 * externalTrafficPolicy / internalTrafficPolicy `Local`: a node without a local ready
 * endpoint drops (or refuses) that traffic by design.
 */
export const trafficPolicy: Check = {
  id: 'service.traffic-policy',
  domain: 'service',
  title: 'Local traffic policy has local endpoints',
  run(view, facts) {
    const unavailable = serviceUnavailable(view);
    if (unavailable) return finding(this, unavailable.status, unavailable.summary);
    const service = targetService(view) as Service;
    const type = service.spec.type ?? 'ClusterIP';
    const external =
      service.spec.externalTrafficPolicy === 'Local' && (type === 'NodePort' || type === 'LoadBalancer');
    const internal = service.spec.internalTrafficPolicy === 'Local';
    if (!external && !internal)
      return finding(this, 'pass', 'traffic policies are Cluster: any node forwards to any endpoint');
    if (facts.endpoints.state === 'missing')
      return finding(this, 'unknown', `EndpointSlices unknown: ${facts.endpoints.reason}`);
    const readyNodes = new Set(
      facts.endpoints.value
        .filter((e) => e.ready)
        .map((e) => e.node)
        .filter((n): n is string => !!n),
    );
    const policy = [
      external ? 'externalTrafficPolicy: Local' : '',
      internal ? 'internalTrafficPolicy: Local' : '',
    ]
      .filter(Boolean)
      .join(' and ');
    const evidence = [
      `Service ${serviceRef(view)}: type=${type} ${policy}`,
      `ready endpoints on: ${[...readyNodes].sort().join(', ') || 'no node'}`,
    ];
    evidence.push(...metricEvidence(view, facts));
    const target = view.target.node;
    if (target) {
      if (readyNodes.has(target))
        return finding(this, 'pass', `${policy}, and node ${target} has a local ready endpoint`, {
          evidence,
        });
      const what = external
        ? `${type} traffic arriving at ${target}`
        : `ClusterIP traffic from pods on ${target}`;
      return finding(
        this,
        'fail',
        `${policy} and node ${target} has no local ready endpoint: ${what} is dropped`,
        {
          evidence,
          suspect: {
            category: 'service_config',
            score: 0.85,
            detail: `${policy} with no local endpoint on ${target}: ${what} is dropped by design; use Cluster policy or run a backend there`,
            nodes: [target],
          },
        },
      );
    }
    const without = facts.nodeNames.filter((n) => !readyNodes.has(n));
    if (without.length === 0)
      return finding(this, 'pass', `${policy}, and every node has a local ready endpoint`, { evidence });
    // A LoadBalancer with externalTrafficPolicy: Local gets a healthCheckNodePort that
    // answers 503 on nodes without a local endpoint, so the load balancer sends them
    // nothing: by design, not a warning (unless the internal policy is Local too).
    if (type === 'LoadBalancer' && external && !internal)
      return finding(
        this,
        'pass',
        `${policy}: ${without.length} of ${facts.nodeNames.length} node(s) have no local endpoint; the load balancer's health check (healthCheckNodePort${service.spec.healthCheckNodePort ? ` ${service.spec.healthCheckNodePort}` : ''}) keeps traffic off them`,
        { evidence },
      );
    return finding(
      this,
      'warn',
      `${policy}: ${without.length} of ${facts.nodeNames.length} node(s) have no local endpoint and drop that traffic`,
      {
        evidence: [
          ...evidence,
          `nodes without a local endpoint: ${without.slice(0, 8).join(', ')}${without.length > 8 ? ', …' : ''}`,
        ],
      },
    );
  },
};

function metricEvidence(view: Parameters<Check['run']>[0], facts: Parameters<Check['run']>[1]): string[] {
  const out: string[] = [];
  for (const node of view.target.node ? [view.target.node] : []) {
    const metrics = facts.captures(node)?.metrics;
    if (metrics?.state !== 'collected') continue;
    for (const s of metrics.value.samples('kubeproxy_sync_proxy_rules_no_local_endpoints_total')) {
      if (s.value > 0)
        out.push(
          `${node} metrics: kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy="${s.labels.traffic_policy}"} ${s.value}`,
        );
    }
    const ipt = facts.captures(node)?.iptables;
    if (ipt?.state === 'collected') {
      const rule = ipt.value
        .rules('filter', 'KUBE-EXTERNAL-SERVICES')
        .concat(ipt.value.rules('filter', 'KUBE-SERVICES'))
        .find(
          (r) =>
            r.comment?.startsWith(`${view.target.namespace}/${view.target.service}`) &&
            r.comment.endsWith('has no local endpoints'),
        );
      if (rule) out.push(`${node} iptables-save: ${rule.raw}`);
    }
  }
  return out;
}
