/**
 * Runbook 000 §8, the SRE decision rule: issues that are node-specific, with kube-proxy
 * sync instability and questionable rule state → drain and replace the node. Its real
 * incident followed node scale events, so when the nodes behind a sync fault are the
 * recently churned ones, the rule names them and says why.
 */
import { churnedAmong } from '../checks/node-churn.js';
import type { Finding, RootCauseCategory } from '../checks/types.js';
import type { Diagnosis } from './diagnosis.js';

/** Sync instability: rules that disagree with the EndpointSlices, or syncs that fail. */
const syncFaults: ReadonlySet<RootCauseCategory> = new Set(['stale_endpoints', 'iptables_sync']);

export function applyChurnRule(
  mitigation: Diagnosis['mitigation'],
  category: RootCauseCategory,
  nodes: readonly string[],
  findings: readonly Finding[],
): Diagnosis['mitigation'] {
  if (!syncFaults.has(category)) return mitigation;
  const churned = churnedAmong(findings, nodes);
  if (churned.length === 0) return mitigation;
  const names = churned.map((c) => c.node);
  const rule = `${churned.map((c) => `${c.node} (${c.why})`).join('; ')} ${churned.length === 1 ? 'is' : 'are'} among the recently churned nodes: node-specific faults with sync instability after scale events are the runbook's decision rule — drain and replace ${names.length === 1 ? 'it' : 'them'} if recreating kube-proxy does not clear the rules.`;
  return {
    ...mitigation,
    immediate: `${mitigation.immediate} ${rule}`,
    actions: mitigation.actions.map((a) =>
      a.id === 'drain-node' && a.node && names.includes(a.node)
        ? { ...a, when: `${a.when} (recently churned node: the runbook's drain-and-replace rule)` }
        : a,
    ),
  };
}
