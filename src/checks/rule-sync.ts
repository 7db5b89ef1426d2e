import type { Healthz } from '../cluster/parse/healthz.js';
import type { Metrics } from '../cluster/parse/prometheus.js';
import type { Facts } from './lib/facts.js';
import { firstAndLast } from './lib/log-history.js';
import { type SyncAttempt, syncHistory } from './lib/sync-attempts.js';
import type { Check, NodeVerdict, Suspect } from './types.js';
import { finding } from './types.js';

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
    if (failing.length > 0 && view.target.node) {
      // Blast radius: the same failure on nodes whose data was read too (bundles hold every
      // kube-proxy log); a lock failure counts only where the lock shows as well.
      for (const node of facts.knownNodes) {
        if (node in verdicts) continue;
        const other = checkNode(node, view.observedAt, facts);
        if (!other.failing || (lock && !other.lock)) continue;
        verdicts[node] = other.verdict;
        evidence.push(...other.evidence.slice(0, 2));
        failing.push(node);
      }
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

interface Part {
  evidence: string[];
  problems: string[];
  warnings: string[];
  lock: boolean;
}

function checkNode(node: string, observedAt: Date, facts: Facts): NodeResult {
  const part: Part = { evidence: [], problems: [], warnings: [], lock: false };
  let sources = 0;
  const captures = facts.captures(node);
  const metrics = captures?.metrics;
  let lastSynced: Date | undefined;
  if (metrics?.state === 'collected') {
    sources++;
    lastSynced = metricsPart(node, metrics.value, observedAt, part);
  }
  if (logPart(node, facts, lastSynced, part)) sources++;
  const healthz = captures?.healthz;
  if (healthz?.state === 'collected') {
    sources++;
    healthzPart(node, healthz.value, part);
  }
  const iptables = captures?.iptables;
  if (iptables?.state === 'collected' && facts.mode.mode === 'iptables') {
    const count = iptables.value.ruleCount;
    if (count > ruleExplosion) part.warnings.push(`iptables-save holds ${count} rules (> ${ruleExplosion})`);
  }
  const { evidence, problems, warnings, lock } = part;
  if (sources === 0)
    return {
      verdict: { status: 'unknown', summary: 'no readable logs, healthz or metrics' },
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

/**
 * Failed syncs since the last good one, each counted once (a restore error and its
 * "Sync failed" are one failure). The last good sync is the later of the log's and the
 * last-sync metric's. Returns whether a readable log was there.
 */
function logPart(node: string, facts: Facts, lastSynced: Date | undefined, part: Part): boolean {
  const pod = facts.kubeProxyPodsByNode.get(node)?.[0];
  const log = pod ? facts.kubeProxyLog(pod.metadata.name, 'current') : undefined;
  if (!pod || !log) return false;
  if (log.state === 'missing') {
    part.evidence.push(`${pod.metadata.name}: ${log.reason}`);
    return false;
  }
  const split = syncHistory(log.value, lastSynced);
  if (split.current.length > 0) {
    const lines = split.current.map(firstLine);
    part.lock ||= split.current.some((a) => a.failures.some((l) => lockText.test(l.raw)));
    part.problems.push(
      `${split.current.length} failed sync(s) ${split.lastSuccess ? `since the last successful sync at ${split.lastSuccess.toISOString()}` : 'and no successful sync in the log'}${part.lock ? ' (xtables lock held by another process)' : ''}`,
    );
    part.evidence.push(...firstAndLast(lines).map((l) => `${pod.metadata.name} log: ${l.raw}`));
  } else if (split.history.length > 0) {
    part.evidence.push(
      `${pod.metadata.name}: ${split.history.length} failed sync(s) before the last successful sync at ${split.lastSuccess?.toISOString()} (history, not cause)`,
    );
  }
  return true;
}

function firstLine(a: SyncAttempt) {
  return (
    a.failures.find((l) => !/Sync failed/.test(l.message)) ??
    (a.failures[0] as SyncAttempt['failures'][number])
  );
}

function healthzPart(node: string, h: Healthz | { error: string }, part: Part): void {
  if ('error' in h) {
    part.warnings.push(h.error);
    return;
  }
  if (h.healthy) return;
  const never = h.lastUpdated.getUTCFullYear() < 1971;
  if (h.nodeEligible === false && h.staleSeconds === 0) {
    part.warnings.push('healthz 503 because the node is being deleted (nodeEligible=false)');
  } else if (never) {
    part.problems.push('healthz unhealthy: kube-proxy has never synced (lastUpdated is the zero time)');
  } else if (h.staleSeconds >= hungAfterSeconds) {
    part.problems.push(
      `healthz unhealthy: last successful sync ${Math.round(h.staleSeconds)}s before the check`,
    );
  }
  part.evidence.push(
    `${node} healthz: lastUpdated=${never ? 'never (zero time)' : h.lastUpdated.toISOString()} currentTime=${h.currentTime.toISOString()}${h.nodeEligible === undefined ? '' : ` nodeEligible=${h.nodeEligible}`}`,
  );
}

/** Returns when the rules were last synced successfully, by kubeproxy_sync_proxy_rules_last_timestamp_seconds. */
function metricsPart(node: string, m: Metrics, observedAt: Date, part: Part): Date | undefined {
  const last = m.max('kubeproxy_sync_proxy_rules_last_timestamp_seconds');
  const queued = m.max('kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds');
  const failures =
    (m.sum('kubeproxy_sync_proxy_rules_iptables_restore_failures_total') ?? 0) +
    (m.sum('kubeproxy_sync_proxy_rules_nftables_sync_failures_total') ?? 0);
  const now = observedAt.getTime() / 1000;
  // The gauge starts at 0 and is set only by a successful sync: 0 is "never", not 1970.
  const never = last === 0;
  if (never) {
    part.evidence.push(`${node} metrics: kubeproxy_sync_proxy_rules_last_timestamp_seconds 0 (never synced)`);
    if (failures > 0)
      part.problems.push(`never synced since kube-proxy started (${failures} restore/sync failure(s))`);
    else part.warnings.push('never synced since kube-proxy started');
  } else if (last !== undefined) {
    // A live read observes `now` before it fetches the metrics, so a sync in between is later
    // than the observation: say so rather than print a negative age.
    const age = Math.round(now - last);
    part.evidence.push(
      age < 0
        ? `${node} metrics: last successful sync during the check (${-age}s after it began)`
        : `${node} metrics: last successful sync ${age}s before the check`,
    );
  }
  if (
    !never &&
    last !== undefined &&
    queued !== undefined &&
    queued - last > hungAfterSeconds &&
    now - queued > hungAfterSeconds
  ) {
    part.problems.push(
      `sync hung: a change queued ${Math.round(queued - last)}s after the last successful sync is still pending`,
    );
    part.evidence.push(
      `${node} metrics: kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds ${queued} > last_timestamp_seconds ${last}`,
    );
  }
  if (failures > 0) part.evidence.push(`${node} metrics: restore/sync failures since start = ${failures}`);
  const mean = m.histogramMean('kubeproxy_sync_proxy_rules_duration_seconds');
  const p99 = m.histogramQuantile('kubeproxy_sync_proxy_rules_duration_seconds', 0.99);
  if (mean !== undefined) {
    part.evidence.push(`${node} metrics: sync duration mean ${mean.toFixed(3)}s, p99 ≤ ${p99 ?? '?'}s`);
    if (mean >= verySlowSyncSeconds)
      part.problems.push(`syncs take ${mean.toFixed(1)}s on average: endpoint changes reach the node late`);
    else if (mean >= slowSyncSeconds)
      part.warnings.push(
        // The histogram observes every sync, failed ones too (proxier.go syncProxyRules
        // observes SyncProxyRulesLatency in a defer): after restore failures, e.g. waits on
        // the xtables lock, a slow mean says nothing about the number of rules.
        failures > 0
          ? `syncs take ${mean.toFixed(2)}s on average, ${failures} failed sync(s) included (a failed iptables-restore can wait seconds for the xtables lock)`
          : `syncs take ${mean.toFixed(2)}s on average (> 1 s: too many rules; IPVS scales better)`,
      );
  }
  const rules = (m.sum('kubeproxy_sync_proxy_rules_iptables_total') ?? 0) || undefined;
  if (rules !== undefined && rules > ruleExplosion)
    part.warnings.push(`${rules} iptables rules owned by kube-proxy (> ${ruleExplosion})`);
  return last ? new Date(last * 1000) : undefined;
}
