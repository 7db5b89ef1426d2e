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

interface PairResults {
  pairs: number;
  denied: string[];
  unknown: Set<string>;
  admittedBy: Set<string>;
  denyingIngress: Set<string>;
  denyingEgress: Set<string>;
}

/** Every client pod against every backend pod: the backends' ingress, the client's egress. */
function evaluatePairs(
  client: ClientView,
  backends: readonly Pod[],
  targetPolicies: readonly NetworkPolicy[],
  ports: ReadonlySet<string>,
): PairResults {
  const r: PairResults = {
    pairs: 0,
    denied: [],
    unknown: new Set(),
    admittedBy: new Set(),
    denyingIngress: new Set(),
    denyingEgress: new Set(),
  };
  const egressPolicies = client.clientPolicies;
  for (const c of client.pods) {
    for (const b of backends) {
      r.pairs++;
      const ingress = evaluate(
        selecting(targetPolicies, b.metadata.labels ?? {}, 'Ingress'),
        'Ingress',
        endpointOf(c, client),
        ports,
      );
      const egress =
        egressPolicies.state === 'missing'
          ? {
              allowed: undefined,
              by: [],
              unknown: `client egress policies unknown (${egressPolicies.reason})`,
            }
          : evaluate(
              selecting(egressPolicies.value, c.metadata.labels ?? {}, 'Egress'),
              'Egress',
              endpointOf(b, client),
              ports,
            );
      if (ingress.allowed === false) for (const p of ingress.by) r.denyingIngress.add(p);
      if (egress.allowed === false) for (const p of egress.by) r.denyingEgress.add(p);
      if (ingress.allowed === false || egress.allowed === false)
        r.denied.push(`${c.metadata.name} → ${b.metadata.name}`);
      else if (ingress.allowed === undefined || egress.allowed === undefined)
        r.unknown.add((ingress.unknown ?? egress.unknown) as string);
      else for (const by of [...ingress.by, ...egress.by]) r.admittedBy.add(by);
    }
  }
  return r;
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
  const r = evaluatePairs(client, backends, targetPolicies, ports);
  const portList = [...ports].join(', ');
  const peers = admittedPeers(
    targetPolicies.filter((p) =>
      r.denyingIngress.has(`NetworkPolicy ${p.metadata.namespace ?? ''}/${p.metadata.name}`),
    ),
    ports,
  );
  const evidence = [
    ...[...r.denyingIngress].map(
      (p) =>
        `${p} selects the backends of ${service}; its ingress admits ${peers.length ? peers.join('; ') : 'no peer'} to port(s) ${portList}`,
    ),
    ...[...r.denyingEgress].map(
      (p) => `${p} selects ${who}; its egress admits no rule to the backends' port(s) ${portList}`,
    ),
    ...r.denied.slice(0, 5).map((d) => `denied: ${d}`),
  ];
  if (r.denied.length > 0) {
    const policies = [...r.denyingIngress, ...r.denyingEgress].join(', ');
    const all = r.denied.length === r.pairs;
    const detail = `${policies} ${all ? 'denies' : `denies ${r.denied.length} of ${r.pairs} connections of`} ${who} → ${service}${peers.length ? `; it admits only ${peers.join('; ')}` : ''}`;
    return finding(check, 'fail', detail, {
      evidence,
      suspect: { category: 'network_policy', score: all ? 0.9 : 0.7, detail, nodes: [] },
    });
  }
  if (r.unknown.size > 0)
    return finding(check, 'unknown', `cannot decide for ${who}: ${[...r.unknown].join('; ')}`, { evidence });
  return finding(check, 'pass', `NetworkPolicies admit ${who} → ${service}`, {
    evidence: [...r.admittedBy].slice(0, 6),
  });
}
