/**
 * The diagnosis engine: runs the checks over a ClusterView in the runbooks' order,
 * stops where the runbooks stop, ranks the root causes and says what to do. Every entry
 * point (CLI, Slack worker, PagerDuty triage) calls this and nothing else.
 */

import { allChecks, epilogue, phases } from '../checks/index.js';
import { auditNotes } from '../checks/lib/audit-changes.js';
import { deriveFacts, type Facts } from '../checks/lib/facts.js';
import { ipvsModuleGaps } from '../checks/lib/ipvs-modules.js';
import { probeReadings } from '../checks/lib/probe-reading.js';
import { type Check, type CheckStatus, type Finding, finding, worstStatus } from '../checks/types.js';
import type { ClusterSource, LoadRequest } from '../cluster/source.js';
import type { ClusterView } from '../cluster/view.js';
import { applyChurnRule } from './churn-rule.js';
import type { Diagnosis, NodeBreakdown, Progress, Severity } from './diagnosis.js';
import { applyGuardrails, withAuditNotes } from './guardrails.js';
import { crossReferences, mitigationFor } from './mitigation.js';
import { probeDecidesHealthy, probeEvidence } from './probe-evidence.js';
import { rankCauses } from './ranking.js';
import { assertTargetNode, inconclusiveDetail, inconclusiveMitigation, missingData } from './verdict.js';

export interface DiagnoseOptions {
  readonly onProgress?: (progress: Progress) => void;
}

const checkOrder = allChecks.map((c) => c.id);

export function diagnose(view: ClusterView, options: DiagnoseOptions = {}): Diagnosis {
  assertTargetNode(view);
  const facts = deriveFacts(view);
  const findings: Finding[] = [];
  const total = allChecks.length;
  let stoppedAfter: Diagnosis['stoppedAfter'] = null;

  for (const phase of phases) {
    options.onProgress?.({ phase: phase.name, done: findings.length, total });
    if (stoppedAfter) {
      findings.push(
        ...phase.checks.map((c) =>
          finding(c, 'skip', `not investigated: ${stoppedAfter?.reason} (runbook order)`),
        ),
      );
      continue;
    }
    const results = phase.checks.map((c) => runCheck(c, view, facts));
    findings.push(...results);
    const stop = results.find(
      (f) => f.status === 'fail' && f.suspect && phase.stopsOn.includes(f.suspect.category),
    );
    if (stop?.suspect) stoppedAfter = { phase: phase.name, reason: `${stop.suspect.category} found` };
  }
  options.onProgress?.({ phase: 'Timeline', done: findings.length, total });
  findings.push(...epilogue.map((c) => runCheck(c, view, facts)));
  options.onProgress?.({ phase: 'Report', done: total, total });

  const readings = probeReadings(view);
  const ranking = rankCauses(
    withAuditNotes(probeEvidence(applyGuardrails(findings), readings), auditNotes(view, facts)),
    checkOrder,
  );
  const top = ranking[0];
  const target = {
    namespace: view.target.service ? (view.target.namespace ?? 'default') : null,
    service: view.target.service ?? null,
    node: view.target.node ?? null,
    from: view.target.from ? `${view.target.from.namespace}/${view.target.from.name}` : null,
    ...(view.target.route
      ? { route: `${view.target.route.kind} ${view.target.route.namespace}/${view.target.route.name}` }
      : {}),
  };
  const missing = missingData(findings, target);
  const verdict =
    !top && missing.length > 0 && !probeDecidesHealthy(view, readings)
      ? ('inconclusive' as const)
      : ('decisive' as const);
  const rootCause = top
    ? { category: top.category, detail: top.detail, nodes: top.nodes }
    : verdict === 'inconclusive'
      ? { category: 'inconclusive' as const, detail: inconclusiveDetail(missing), nodes: [] }
      : { category: 'none' as const, detail: noFaultDetail(findings), nodes: [] };
  const mitigation =
    verdict === 'inconclusive'
      ? inconclusiveMitigation(missing)
      : applyChurnRule(
          mitigationFor({
            category: rootCause.category,
            nodes: rootCause.nodes,
            detail: rootCause.detail,
            findings,
            target,
            ipvsModuleGaps: ipvsModuleGaps(view),
          }),
          rootCause.category,
          rootCause.nodes,
          findings,
        );
  return {
    cluster: view.cluster,
    target,
    observedAt: view.observedAt.toISOString(),
    origin: view.origin,
    rootCause,
    ranking,
    kubeProxy: { mode: facts.mode.mode, version: facts.kubeProxyVersion?.version ?? null },
    severity: severityOf(rootCause.category, rootCause.nodes, facts, findings),
    verdict,
    missing,
    stoppedAfter,
    findings,
    nodes: nodeBreakdown(findings),
    mitigation,
    crossReference: crossReferences[rootCause.category] ?? [],
  };
}

/** Loads the view from a source, diagnoses it, and releases the source. */
export async function diagnoseSource(
  source: ClusterSource,
  request: LoadRequest = {},
  options: DiagnoseOptions = {},
): Promise<Diagnosis> {
  try {
    options.onProgress?.({ phase: 'Collecting cluster state', done: 0, total: allChecks.length });
    const view = await source.load(request);
    return diagnose(view, options);
  } finally {
    await source.close();
  }
}

/** A check that throws is a bug in kproxy, not a fact about the cluster: say so, keep going. */
function runCheck(check: Check, view: ClusterView, facts: Facts): Finding {
  try {
    return check.run(view, facts);
  } catch (error) {
    return finding(
      check,
      'unknown',
      `check failed internally: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function noFaultDetail(findings: readonly Finding[]): string {
  const unknown = findings.filter((f) => f.status === 'unknown').map((f) => f.check);
  const warned = findings.filter((f) => f.status === 'warn').map((f) => f.check);
  const parts = [`no fault found by ${findings.filter((f) => f.status === 'pass').length} passing checks`];
  if (warned.length > 0) parts.push(`warnings: ${warned.join(', ')}`);
  // Unknown is missing data, a refused read or a check not enabled here (the opt-in probe): each says which.
  if (unknown.length > 0) parts.push(`not verified (see each): ${unknown.join(', ')}`);
  return parts.join('; ');
}

const nodeWide = new Set([
  'pod_crash',
  'api_connectivity',
  'iptables_sync',
  'ipvs_modules',
  'stale_endpoints',
  'conntrack',
  'node_network',
]);

function severityOf(
  category: string,
  nodes: readonly string[],
  facts: Facts,
  findings: readonly Finding[],
): Severity {
  if (category === 'inconclusive') return 'UNKNOWN';
  if (category === 'none') return findings.some((f) => f.status === 'warn') ? 'LOW' : 'NONE';
  if (category === 'version_skew') return 'MEDIUM';
  if (category === 'dns') return 'CRITICAL';
  if (nodeWide.has(category) && facts.clusterSize > 1 && nodes.length >= facts.clusterSize) return 'CRITICAL';
  return 'HIGH';
}

function nodeBreakdown(findings: readonly Finding[]): NodeBreakdown[] {
  const byNode = new Map<string, { check: string; status: CheckStatus; summary: string }[]>();
  for (const f of findings) {
    for (const [node, verdict] of Object.entries(f.nodes ?? {})) {
      const list = byNode.get(node) ?? [];
      list.push({ check: f.check, status: verdict.status, summary: verdict.summary });
      byNode.set(node, list);
    }
  }
  return [...byNode.entries()]
    .map(([node, checks]) => ({ node, status: worstStatus(checks.map((c) => c.status)), checks }))
    .sort((a, b) => statusRank(a.status) - statusRank(b.status) || a.node.localeCompare(b.node));
}

function statusRank(s: CheckStatus): number {
  return ['fail', 'unknown', 'warn', 'pass', 'info', 'skip'].indexOf(s);
}
