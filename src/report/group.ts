/** Shared shaping of a diagnosis for renderers. */
import { type FailureDomain, type Finding, failureDomains } from '../checks/types.js';

export const domainTitles: Readonly<Record<FailureDomain, string>> = {
  service: 'Service',
  endpoints: 'Endpoints and backends',
  nodes: 'Nodes',
  'kube-proxy': 'kube-proxy pods, version and mode',
  'api-connectivity': 'API connectivity',
  'rule-sync': 'Rule sync',
  ipvs: 'IPVS',
  dataplane: 'Dataplane vs EndpointSlices',
  conntrack: 'Conntrack',
  dns: 'DNS',
  'network-policy': 'NetworkPolicy',
  cni: 'CNI',
  probe: "Client's-eye probe",
  'north-south': 'Ingress and LoadBalancer',
  timeline: 'Timeline',
};

export function byDomain(
  findings: readonly Finding[],
): { domain: FailureDomain; title: string; findings: Finding[] }[] {
  return failureDomains
    .map((domain) => ({
      domain,
      title: domainTitles[domain],
      findings: findings.filter((f) => f.domain === domain),
    }))
    .filter((g) => g.findings.length > 0);
}

/** Findings worth a human's attention first: failures, then unknowns, then warnings. */
export function notable(findings: readonly Finding[]): Finding[] {
  const rank = { fail: 0, unknown: 1, warn: 2 } as Record<string, number>;
  return findings
    .filter((f) => f.status in rank)
    .sort((a, b) => (rank[a.status] ?? 9) - (rank[b.status] ?? 9));
}

export function targetLabel(t: {
  namespace: string | null;
  service: string | null;
  node: string | null;
  from?: string | null;
  route?: string | null;
}): string {
  const service = t.service ? `${t.namespace}/${t.service}` : undefined;
  const parts = [
    t.route
      ? `${t.route}${service ? ` → Service ${service}` : ''}`
      : (service ?? 'cluster-wide kube-proxy health'),
  ];
  if (t.from) parts.push(`from ${t.from}`);
  if (t.node) parts.push(`node ${t.node}`);
  return parts.join(', ');
}
