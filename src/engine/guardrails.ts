/**
 * The runbooks' anti-hallucination rules that span several checks. (Rules local to one
 * check live in it: "errors older than the last successful sync are history" in the
 * log-reading checks, "the conntrack invalid counter is not pressure" in conntrack,
 * POD_SECURITY_GROUP_ENFORCING_MODE in the CNI check.)
 */
import type { Finding, Suspect } from '../checks/types.js';

export interface AdjustedSuspect extends Suspect {
  readonly check: string;
  readonly notes: readonly string[];
}

/** Categories that make kube-proxy's rules go stale: stale rules beside them are a symptom. */
const staleCauses = new Set(['pod_crash', 'api_connectivity', 'iptables_sync', 'ipvs_modules']);

export function applyGuardrails(findings: readonly Finding[]): AdjustedSuspect[] {
  const suspects: AdjustedSuspect[] = findings
    .filter((f) => f.status === 'fail' && f.suspect)
    .map((f) => ({ ...(f.suspect as Suspect), check: f.check, notes: [] }));
  return suspects
    .map((s) => staleIsSymptom(s, suspects))
    .map((s) => syncFailsBecauseOf(s, suspects))
    .map((s) => cniNeverOwnsKubeServices(s, findings));
}

/**
 * Cause outranks symptom for sync failures too: without kube-ipvs0 or the IPVS modules
 * every IPVS sync fails or returns early ("Failed to create dummy interface" ends the
 * sync, pkg/proxy/ipvs/proxier.go), and a kube-proxy that cannot list/watch the API has
 * nothing fresh to program: rules missing where the watch fails are its consequence.
 */
function syncFailsBecauseOf(s: AdjustedSuspect, all: readonly AdjustedSuspect[]): AdjustedSuspect {
  if (s.category !== 'iptables_sync') return s;
  const ipvs = all.find((o) => o.category === 'ipvs_modules' && overlaps(o.nodes, s.nodes));
  const api =
    s.check === 'dataplane.rules'
      ? all.find(
          (o) =>
            (o.category === 'api_connectivity' || o.category === 'pod_crash') && overlaps(o.nodes, s.nodes),
        )
      : undefined;
  const cause = ipvs ?? api;
  if (!cause) return s;
  return {
    ...s,
    score: s.score * 0.6,
    notes: [...s.notes, `consequence of ${cause.category} on the same node(s)`],
  };
}

function overlaps(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === 0 || b.length === 0) return true;
  return a.some((n) => b.includes(n));
}

/** Stale rules on nodes where kube-proxy cannot sync are the consequence, not the cause. */
function staleIsSymptom(s: AdjustedSuspect, all: readonly AdjustedSuspect[]): AdjustedSuspect {
  if (s.category !== 'stale_endpoints') return s;
  const cause = all.find((o) => staleCauses.has(o.category) && overlaps(o.nodes, s.nodes));
  if (!cause) return s;
  return {
    ...s,
    score: s.score * 0.6,
    notes: [...s.notes, `consequence of ${cause.category} on the same node(s)`],
  };
}

/**
 * "KUBE-SERVICES chain empty → kube-proxy issue, NOT CNI" and "the VPC CNI never
 * creates, modifies, or reads KUBE-SERVICES": where kube-proxy's own rules for the
 * Service are missing or wrong on a node, a node-network or CNI fault there is not the
 * explanation.
 */
function cniNeverOwnsKubeServices(s: AdjustedSuspect, findings: readonly Finding[]): AdjustedSuspect {
  if (s.category !== 'node_network') return s;
  const dataplane = findings.find((f) => f.check === 'dataplane.rules');
  const badRules = Object.entries(dataplane?.nodes ?? {})
    .filter(([, v]) => v.status === 'fail')
    .map(([n]) => n);
  if (!badRules.some((n) => s.nodes.includes(n))) return s;
  return {
    ...s,
    score: s.score * 0.3,
    notes: [...s.notes, 'kube-proxy rules are missing or wrong there; the CNI never touches KUBE-SERVICES'],
  };
}

/**
 * Runbook D8 2G: a change to kube-proxy's ConfigMap/DaemonSet or the Service before the
 * first failure, from the EKS audit log, is named beside the root cause it can explain.
 */
export function withAuditNotes(
  suspects: readonly AdjustedSuspect[],
  notes: readonly { category: string; note: string }[],
): AdjustedSuspect[] {
  return suspects.map((s) => {
    const mine = notes.filter((n) => n.category === s.category).map((n) => n.note);
    return mine.length > 0 ? { ...s, notes: [...s.notes, ...mine.slice(0, 2)] } : s;
  });
}
