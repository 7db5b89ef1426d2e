/**
 * The client's-eye probe outranks inference: what a pod on the node saw when it tried the
 * path decides between suspects the rules, logs and objects only suggest.
 * - Every endpoint answers directly, the VIP does not: kube-proxy on that node. Its
 *   kube-proxy suspects there are confirmed; node-network, DNS and NetworkPolicy suspects
 *   there are weakened (the pod network reached every backend).
 * - Neither answers: not kube-proxy alone. A NetworkPolicy suspect is confirmed when the
 *   probe ran as the client (its labels, its namespace); node-network suspects there are.
 * - The name fails while the VIP answers: DNS suspects are confirmed.
 * - Everything answers: with no fault found, the diagnosis is decided (`none`), not
 *   inconclusive for want of captures.
 */
import type { ProbeReading } from '../checks/lib/probe-reading.js';
import type { FaultCategory } from '../checks/types.js';
import type { ClusterView } from '../cluster/view.js';
import type { AdjustedSuspect } from './guardrails.js';

const kubeProxyCategories = new Set<FaultCategory>([
  'pod_crash',
  'api_connectivity',
  'iptables_sync',
  'ipvs_modules',
  'stale_endpoints',
]);

const confirmed = 0.98;

/**
 * The path was tried and works from every node the probe ran from (and it ran from every
 * one it was meant to): the runbooks' decisive test, so missing captures or logs no longer
 * make the diagnosis inconclusive (they stay listed as missing).
 */
export function probeDecidesHealthy(view: ClusterView, readings: readonly ProbeReading[]): boolean {
  const probes = [...(view.probes?.values() ?? [])];
  return (
    readings.length === probes.length && readings.length > 0 && readings.every((r) => r.kind === 'works')
  );
}

export function probeEvidence(
  suspects: readonly AdjustedSuspect[],
  readings: readonly ProbeReading[],
): AdjustedSuspect[] {
  return suspects.map((s) => {
    if (s.check === 'probe.path') return s;
    let out = s;
    for (const r of readings) out = adjust(out, r);
    return out;
  });
}

function adjust(s: AdjustedSuspect, r: ProbeReading): AdjustedSuspect {
  const here = s.nodes.length === 0 || s.nodes.includes(r.node);
  if (!here) return s;
  const from = `client's-eye probe from ${r.node}`;
  switch (r.kind) {
    case 'vip-fails':
      // A suspect already ranked as another's consequence (stale rules of a crashed kube-proxy) stays one.
      if (kubeProxyCategories.has(s.category) && !s.notes.some((n) => n.startsWith('consequence of')))
        return raise(s, `confirmed by the ${from}: every endpoint answers directly, the VIP does not`);
      if (['node_network', 'dns', 'network_policy', 'conntrack'].includes(s.category) && s.nodes.length > 0)
        return lower(s, 0.5, `the ${from} reached every endpoint directly`);
      return s;
    case 'all-fail':
      if (s.category === 'network_policy' && r.matrix.as)
        return raise(s, `confirmed by the ${from} as ${r.matrix.as}: no endpoint answers`);
      if (s.category === 'node_network' && s.nodes.includes(r.node))
        return raise(s, `confirmed by the ${from}: neither the VIP nor any endpoint answers`);
      if (kubeProxyCategories.has(s.category))
        return lower(s, 0.7, `the ${from} reached no endpoint directly either: not kube-proxy alone`);
      return s;
    case 'dns-fails':
      return s.category === 'dns'
        ? raise(s, `confirmed by the ${from}: the name does not resolve to the ClusterIP, the VIP answers`)
        : s;
    default:
      return s;
  }
}

const raise = (s: AdjustedSuspect, note: string): AdjustedSuspect => ({
  ...s,
  score: Math.max(s.score, confirmed),
  notes: [...s.notes, note],
});

const lower = (s: AdjustedSuspect, factor: number, note: string): AdjustedSuspect => ({
  ...s,
  score: s.score * factor,
  notes: [...s.notes, note],
});
