/**
 * NetworkPolicy verdict for a named client (`--from`): every client pod against every
 * backend pod, the backends' Ingress policies and the client's own Egress policies.
 * Decisive: the policy that denies it and the peers it admits, or the rule that admits it.
 */
import type { ClientView } from '../cluster/client.js';
import { clientText } from '../cluster/client.js';
import { missing } from '../cluster/collected.js';
import type { NetworkPolicy, Pod } from '../cluster/kube-types.js';
import { admittedPeers, type Endpoint, evaluate, selecting } from './lib/policy-eval.js';
import type { Check, Finding } from './types.js';
import { finding } from './types.js';

function endpointOf(pod: Pod, client: ClientView): Endpoint {
  const ns = pod.metadata.namespace ?? '';
  return {
    namespace: ns,
    labels: pod.metadata.labels ?? {},
    ip: pod.status?.podIP ?? undefined,
    namespaceLabels: client.namespaceLabels.get(ns) ?? missing(`labels of namespace ${ns} not collected`),
  };
}

export function clientVerdict(
  check: Check,
  client: ClientView,
  backends: readonly Pod[],
  targetPolicies: readonly NetworkPolicy[],
  ports: ReadonlySet<string>,
  service: string,
): Finding {
  const who = `${client.kind} ${clientText(client.ref)}`;
  if (client.pods.length === 0)
    return finding(check, 'unknown', `client ${who} has no pods: nothing to evaluate`);
  const denied: string[] = [];
  const unknown = new Set<string>();
  const admittedBy = new Set<string>();
  const denyingIngress = new Set<string>();
  const denyingEgress = new Set<string>();
  let pairs = 0;
  for (const c of client.pods) {
    for (const b of backends) {
      pairs++;
      const ingress = evaluate(
        selecting(targetPolicies, b.metadata.labels ?? {}, 'Ingress'),
        'Ingress',
        endpointOf(c, client),
        ports,
      );
      const egress =
        client.clientPolicies.state === 'missing'
          ? {
              allowed: undefined,
              by: [],
              unknown: `client egress policies unknown (${client.clientPolicies.reason})`,
            }
          : evaluate(
              selecting(client.clientPolicies.value, c.metadata.labels ?? {}, 'Egress'),
              'Egress',
              endpointOf(b, client),
              ports,
            );
      if (ingress.allowed === false) for (const p of ingress.by) denyingIngress.add(p);
      if (egress.allowed === false) for (const p of egress.by) denyingEgress.add(p);
      if (ingress.allowed === false || egress.allowed === false)
        denied.push(`${c.metadata.name} → ${b.metadata.name}`);
      else if (ingress.allowed === undefined || egress.allowed === undefined)
        unknown.add((ingress.unknown ?? egress.unknown) as string);
      else for (const by of [...ingress.by, ...egress.by]) admittedBy.add(by);
    }
  }
  const peers = admittedPeers(
    targetPolicies.filter((p) =>
      denyingIngress.has(`NetworkPolicy ${p.metadata.namespace ?? ''}/${p.metadata.name}`),
    ),
    ports,
  );
  const evidence = [
    ...[...denyingIngress].map(
      (p) =>
        `${p} selects the backends of ${service}; its ingress admits ${peers.length ? peers.join('; ') : 'no peer'} to port(s) ${[...ports].join(', ')}`,
    ),
    ...[...denyingEgress].map(
      (p) =>
        `${p} selects ${who}; its egress admits no rule to the backends' port(s) ${[...ports].join(', ')}`,
    ),
    ...denied.slice(0, 5).map((d) => `denied: ${d}`),
  ];
  if (denied.length > 0) {
    const policies = [...denyingIngress, ...denyingEgress].join(', ');
    const all = denied.length === pairs;
    const detail = `${policies} ${all ? 'denies' : `denies ${denied.length} of ${pairs} connections of`} ${who} → ${service}${peers.length ? `; it admits only ${peers.join('; ')}` : ''}`;
    return finding(check, 'fail', detail, {
      evidence,
      suspect: { category: 'network_policy', score: all ? 0.9 : 0.7, detail, nodes: [] },
    });
  }
  if (unknown.size > 0)
    return finding(check, 'unknown', `cannot decide for ${who}: ${[...unknown].join('; ')}`, { evidence });
  return finding(check, 'pass', `NetworkPolicies admit ${who} → ${service}`, {
    evidence: [...admittedBy].slice(0, 6),
  });
}
