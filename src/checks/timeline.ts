import type { KlogLine } from '../cluster/parse/klog.js';
import { auditTimelineEntries } from './lib/audit-changes.js';
import type { Facts } from './lib/facts.js';
import { lastTermination } from './lib/pods.js';
import type { Check } from './types.js';
import { finding } from './types.js';

interface Entry {
  readonly at: Date;
  readonly text: string;
}

const maxEntries = 25;
/**
 * Timeouts as errors print them (`i/o timeout`, `Client.Timeout exceeded`, `TLS handshake
 * timeout`, `context deadline exceeded`, `timed out`), not the word alone: start-up lines
 * carry it in flags and sysctl names (`FLAG: --ipvs-tcp-timeout="0s"`,
 * `"Set sysctl" entry="net/netfilter/nf_conntrack_tcp_timeout_established"`).
 */
const interestingLog =
  /Failed|failed|error|Error|i\/o timeout|Client\.Timeout|handshake timeout|deadline exceeded|timed out|refused|Unauthorized|forbidden|xtables lock|"Using \w+ Proxier"|"Version info"|Caches are synced|Sync failed/;
/** Start-up echo of configuration, never an event. */
const startupEcho = /^FLAG: |^"Set sysctl"|^"Setting nf_conntrack_max"/;
/** Log lines older than this before the observation are not "around the incident". */
const logWindowMs = 6 * 3600 * 1000;

/**
 * A timeline of the key events around the incident: Warning events, kube-proxy
 * starts, first and last occurrence of each kube-proxy error, container terminations,
 * node condition changes and the last successful sync. Context, not a verdict.
 */
export const timeline: Check = {
  id: 'timeline.events',
  domain: 'timeline',
  title: 'Timeline of key events',
  run(view, facts) {
    const entries: Entry[] = [
      ...eventEntries(view),
      ...logEntries(facts, view.observedAt),
      ...podEntries(view),
      ...nodeEntries(view, facts),
    ];
    // Control-plane changes (EKS audit log) are kept whatever the volume of log lines after them.
    const audit = auditTimelineEntries(view, facts);
    if (entries.length + audit.length === 0) return finding(this, 'info', 'no timestamped events collected');
    entries.sort((a, b) => a.at.getTime() - b.at.getTime());
    const kept = [...entries.slice(-(maxEntries - audit.length)), ...audit].sort(
      (a, b) => a.at.getTime() - b.at.getTime(),
    );
    entries.push(...audit);
    return finding(
      this,
      'info',
      `${entries.length} event(s) from ${kept[0]?.at.toISOString()} to ${kept.at(-1)?.at.toISOString()}`,
      {
        evidence: kept.map((e) => `${e.at.toISOString()} ${e.text}`),
      },
    );
  },
};

function eventEntries(view: Parameters<Check['run']>[0]): Entry[] {
  if (view.events.state === 'missing') return [];
  const relevant = new Set([view.target.service, view.target.node, 'kube-proxy'].filter(Boolean));
  return view.events.value
    .filter(
      (e) =>
        e.type === 'Warning' || e.involvedObject.kind === 'Node' || relevant.has(e.involvedObject.name ?? ''),
    )
    .map((e) => ({
      at: new Date(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? 0),
      text: `Event ${e.type ?? ''} ${e.reason ?? ''} ${e.involvedObject.kind ?? ''}/${e.involvedObject.name ?? ''}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}: ${e.message ?? ''}`.replace(
        /\s+/g,
        ' ',
      ),
    }))
    .filter((e) => !Number.isNaN(e.at.getTime()) && e.at.getTime() > 0);
}

function logEntries(facts: Facts, observedAt: Date): Entry[] {
  const out: Entry[] = [];
  const scope = new Set(facts.nodesInScope);
  const since = observedAt.getTime() - logWindowMs;
  const relevant = (l: KlogLine) =>
    l.time.getTime() >= since && !startupEcho.test(l.message) && interestingLog.test(l.message);
  for (const [node, pods] of facts.kubeProxyPodsByNode) {
    if (!scope.has(node)) continue;
    for (const pod of pods) {
      for (const which of ['previous', 'current'] as const) {
        const log = facts.kubeProxyLog(pod.metadata.name, which);
        if (log.state === 'missing') continue;
        out.push(
          ...firstAndLastByMessage(log.value.filter(relevant)).map((l) => ({
            at: l.time,
            text: `${pod.metadata.name}${which === 'previous' ? ' (previous)' : ''}: ${l.message.slice(0, 240)}`,
          })),
        );
      }
    }
    if (out.length > 200) break;
  }
  return out;
}

/** Repeated messages collapse to their first and last occurrence. */
function firstAndLastByMessage(lines: readonly KlogLine[]): KlogLine[] {
  const groups = new Map<string, KlogLine[]>();
  for (const line of lines) {
    const key = line.message.replace(/\d+(\.\d+)?(ms|s)?/g, 'N').slice(0, 80);
    const g = groups.get(key);
    if (!g) groups.set(key, [line]);
    else if (g.length === 1) g.push(line);
    else g[1] = line;
  }
  return [...groups.values()].flat();
}

function podEntries(view: Parameters<Check['run']>[0]): Entry[] {
  if (view.kubeProxy.pods.state === 'missing') return [];
  const out: Entry[] = [];
  for (const pod of view.kubeProxy.pods.value) {
    if (view.target.node && pod.spec.nodeName !== view.target.node) continue;
    const last = lastTermination(pod);
    if (last?.finishedAt)
      out.push({
        at: new Date(last.finishedAt),
        text: `kube-proxy ${pod.metadata.name} terminated: ${last.reason} (exit ${last.exitCode ?? '?'})`,
      });
  }
  return out.slice(0, 20);
}

function nodeEntries(view: Parameters<Check['run']>[0], facts: Facts): Entry[] {
  const out: Entry[] = [];
  if (view.nodes.state === 'collected') {
    const scope = new Set(facts.nodesInScope);
    for (const node of view.nodes.value) {
      if (!scope.has(node.metadata.name)) continue;
      for (const c of node.status?.conditions ?? []) {
        const bad =
          (c.type === 'Ready' && c.status !== 'True') || (c.type !== 'Ready' && c.status === 'True');
        if (bad && c.lastTransitionTime)
          out.push({
            at: new Date(c.lastTransitionTime),
            text: `Node ${node.metadata.name} ${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`,
          });
      }
      if (out.length > 20) break;
    }
  }
  for (const node of facts.nodesInScope.slice(0, 20)) {
    const h = facts.captures(node)?.healthz;
    // A zero lastUpdated (never synced) is no point in time.
    if (
      h?.state === 'collected' &&
      !('error' in h.value) &&
      !h.value.healthy &&
      h.value.lastUpdated.getUTCFullYear() > 1970
    ) {
      out.push({
        at: h.value.lastUpdated,
        text: `${node}: last successful kube-proxy sync (healthz lastUpdated)`,
      });
    }
  }
  return out;
}
