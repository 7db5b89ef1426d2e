/** `--format yaml`: the SOPs' Output Format (root_cause, kube_proxy_mode, evidence, …). */
import { stringify } from 'yaml';
import type { FailureDomain } from '../checks/types.js';
import type { Diagnosis } from '../engine/diagnosis.js';
import { notable } from './group.js';

/** The SOP's evidence types: rules and node state, log searches, the timeline. */
function evidenceType(domain: FailureDomain, check: string): string {
  if (domain === 'timeline') return 'correlate';
  if (['dataplane', 'ipvs', 'conntrack', 'rule-sync'].includes(domain)) return 'network_diagnostics';
  if (domain === 'api-connectivity' || check === 'kube-proxy.mode') return 'search';
  return 'kubernetes';
}

export function renderSopYaml(d: Diagnosis): string {
  const evidence = notable(d.findings).map((f) => ({
    type: evidenceType(f.domain, f.check),
    check: f.check,
    status: f.status,
    content: [f.summary, ...f.evidence].join('\n'),
  }));
  const timeline = d.findings.find((f) => f.domain === 'timeline' && f.evidence.length > 0);
  if (timeline)
    evidence.push({
      type: 'correlate',
      check: timeline.check,
      status: timeline.status,
      content: timeline.evidence.join('\n'),
    });
  const doc = {
    root_cause: `${d.rootCause.category} — ${d.rootCause.detail}`,
    kube_proxy_mode: d.kubeProxy.mode,
    kube_proxy_version: d.kubeProxy.version ?? 'unknown',
    cluster: d.cluster,
    target: d.target,
    affected_nodes: d.rootCause.nodes,
    evidence,
    severity: d.severity,
    verdict: d.verdict,
    ...(d.missing.length > 0
      ? { missing_data: d.missing.map((m) => ({ check: m.check, what: m.what, how: m.how })) }
      : {}),
    mitigation: {
      immediate: `Operator: ${d.mitigation.immediate}`,
      long_term: d.mitigation.longTerm,
      actions: d.mitigation.actions.map((a) => ({
        id: a.id,
        safety: a.safety,
        ...(a.node ? { node: a.node } : {}),
        when: a.when,
      })),
    },
    cross_reference: d.crossReference,
  };
  return stringify(doc, { lineWidth: 0 });
}
