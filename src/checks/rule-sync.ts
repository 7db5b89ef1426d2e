import type { Facts } from './lib/facts.js';
import { firstAndLast, splitErrors } from './lib/log-history.js';
import type { Check, NodeVerdict, Suspect } from './types.js';
import { finding } from './types.js';

const syncFailure =
  /Failed to execute iptables-restore|"Sync failed"|Sync failed; retrying|nftables sync failed|Failed to ensure that .* chain|holding the xtables lock|Could not check for iptables canary|Failed to execute iptables-save/;
const syncSuccess =
  /"SyncProxyRules complete"|syncProxyRules complete|"Reloading service (?:iptables|nftables) data"/;
const lockText = /xtables lock/;
/** healthz stays 200 until a queued change waits longer than 2 × syncPeriod (60 s by default). */
const hungAfterSeconds = 60;
/** The runbook: syncs over 1 s mean too many rules; over 10 s Services visibly lag. */
const slowSyncSeconds = 1;
const verySlowSyncSeconds = 10;
const ruleExplosion = 10_000;

interface NodeResult {
  verdict: NodeVerdict;
  evidence: string[];
  failing: boolean;
  lock: boolean;
}

/** SOP 2C / D2: iptables or nftables rule sync — restore failures, xtables lock, latency, hangs, rule counts. */
export const ruleSync: Check = {
  id: 'kube-proxy.sync',
  domain: 'rule-sync',
  title: 'Rule sync (iptables-restore / nftables)',
  run(view, facts) {
    const verdicts: Record<string, NodeVerdict> = {};
    const evidence: string[] = [];
    const failing: string[] = [];
    let lock = false;
    let known = 0;
    let warned = 0;
    for (const node of facts.nodesInScope) {
      const result = checkNode(node, view.observedAt, facts);
      verdicts[node] = result.verdict;
      evidence.push(...result.evidence);
      if (result.verdict.status !== 'unknown') known++;
      if (result.failing) failing.push(node);
      if (result.verdict.status === 'warn') warned++;
      lock ||= result.lock;
    }
    if (known === 0)
      return finding(this, 'unknown', 'no kube-proxy logs, healthz or metrics for the nodes in scope', {
        nodes: verdicts,
      });
    if (failing.length > 0) {
      const why = lock ? 'xtables lock contention' : 'rule sync failing';
      const suspect: Suspect = {
        category: 'iptables_sync',
        score: 0.9,
        detail: `${why} on ${failing.length === 1 ? failing[0] : `${failing.length} nodes`}: ${failing
          .map((n) => verdicts[n]?.summary)
          .slice(0, 2)
          .join('; ')}`,
        nodes: failing,
      };
      return finding(this, 'fail', `${why} on ${failing.slice(0, 5).join(', ')}`, {
        evidence: evidence.slice(0, 16),
        nodes: verdicts,
        suspect,
      });
    }
    if (warned > 0)
      return finding(this, 'warn', `rules sync, with warnings on ${warned} node(s)`, {
        evidence: evidence.slice(0, 12),
        nodes: verdicts,
      });
    return finding(this, 'pass', `rules syncing on ${known} node(s)`, {
      evidence: evidence.slice(0, 6),
      nodes: verdicts,
    });
  },
};

function checkNode(node: string, observedAt: Date, facts: Facts): NodeResult {
  const evidence: string[] = [];
  const problems: string[] = [];
  const warnings: string[] = [];
  let sources = 0;
  let lock = false;

  const pod = facts.kubeProxyPodsByNode.get(node)?.[0];
  const log = pod ? facts.kubeProxyLog(pod.metadata.name, 'current') : undefined;
  if (pod && log?.state === 'collected') {
    sources++;
    const split = splitErrors(
      log.value,
      (l) => syncFailure.test(l.message),
      (l) => syncSuccess.test(l.message),
    );
    if (split.current.length > 0) {
      lock = split.current.some((l) => lockText.test(l.raw));
      problems.push(
        `${split.current.length} sync failure(s) since the last successful sync${lock ? ' (xtables lock held by another process)' : ''}`,
      );
      evidence.push(...firstAndLast(split.current).map((l) => `${pod.metadata.name} log: ${l.raw}`));
    }
    if (split.history.length > 0 && split.current.length === 0) {
      evidence.push(
        `${pod.metadata.name}: ${split.history.length} sync error(s) before the last successful sync at ${split.lastSuccess?.time.toISOString()} (history, not cause)`,
      );
    }
  }

  const captures = facts.captures(node);
  const healthz = captures?.healthz;
  if (healthz?.state === 'collected') {
    sources++;
    const h = healthz.value;
    if ('error' in h) warnings.push(h.error);
    else if (!h.healthy) {
      if (h.nodeEligible === false && h.staleSeconds === 0) {
        warnings.push('healthz 503 because the node is being deleted (nodeEligible=false)');
      } else if (h.staleSeconds >= hungAfterSeconds) {
        problems.push(
          `healthz unhealthy: last successful sync ${Math.round(h.staleSeconds)}s before the check`,
        );
      }
      evidence.push(
        `${node} healthz: lastUpdated=${h.lastUpdated.toISOString()} currentTime=${h.currentTime.toISOString()}${h.nodeEligible === undefined ? '' : ` nodeEligible=${h.nodeEligible}`}`,
      );
    }
  }

  const metrics = captures?.metrics;
  if (metrics?.state === 'collected') {
    sources++;
    const m = metrics.value;
    const last = m.max('kubeproxy_sync_proxy_rules_last_timestamp_seconds');
    const queued = m.max('kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds');
    if (last !== undefined) {
      evidence.push(
        `${node} metrics: last successful sync ${Math.round(observedAt.getTime() / 1000 - last)}s before the check`,
      );
    }
    if (
      last !== undefined &&
      queued !== undefined &&
      queued - last > hungAfterSeconds &&
      observedAt.getTime() / 1000 - queued > hungAfterSeconds
    ) {
      problems.push(
        `sync hung: a change queued ${Math.round(queued - last)}s after the last successful sync is still pending`,
      );
      evidence.push(
        `${node} metrics: kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds ${queued} > last_timestamp_seconds ${last}`,
      );
    }
    const failures = m.sum('kubeproxy_sync_proxy_rules_iptables_restore_failures_total') ?? 0;
    const nftFailures = m.sum('kubeproxy_sync_proxy_rules_nftables_sync_failures_total') ?? 0;
    if (failures + nftFailures > 0)
      evidence.push(`${node} metrics: restore/sync failures since start = ${failures + nftFailures}`);
    const mean = m.histogramMean('kubeproxy_sync_proxy_rules_duration_seconds');
    const p99 = m.histogramQuantile('kubeproxy_sync_proxy_rules_duration_seconds', 0.99);
    if (mean !== undefined) {
      evidence.push(`${node} metrics: sync duration mean ${mean.toFixed(3)}s, p99 ≤ ${p99 ?? '?'}s`);
      if (mean >= verySlowSyncSeconds)
        problems.push(`syncs take ${mean.toFixed(1)}s on average: endpoint changes reach the node late`);
      else if (mean >= slowSyncSeconds)
        warnings.push(
          `syncs take ${mean.toFixed(2)}s on average (> 1 s: too many rules; IPVS scales better)`,
        );
    }
    const rules = (m.sum('kubeproxy_sync_proxy_rules_iptables_total') ?? 0) || undefined;
    if (rules !== undefined && rules > ruleExplosion)
      warnings.push(`${rules} iptables rules owned by kube-proxy (> ${ruleExplosion})`);
  }

  const iptables = captures?.iptables;
  if (iptables?.state === 'collected' && facts.mode.mode === 'iptables') {
    const count = iptables.value.ruleCount;
    if (count > ruleExplosion) warnings.push(`iptables-save holds ${count} rules (> ${ruleExplosion})`);
  }

  if (sources === 0)
    return {
      verdict: { status: 'unknown', summary: 'no logs, healthz or metrics' },
      evidence,
      failing: false,
      lock,
    };
  if (problems.length > 0)
    return { verdict: { status: 'fail', summary: problems.join('; ') }, evidence, failing: true, lock };
  evidence.push(...warnings.map((w) => `${node}: ${w}`));
  if (warnings.length > 0)
    return { verdict: { status: 'warn', summary: warnings.join('; ') }, evidence, failing: false, lock };
  return { verdict: { status: 'pass', summary: 'syncing' }, evidence, failing: false, lock };
}
