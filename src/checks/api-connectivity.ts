import type { KlogLine } from '../cluster/parse/klog.js';
import type { Facts } from './lib/facts.js';
import { firstAndLast, splitErrors } from './lib/log-history.js';
import type { Check, NodeVerdict } from './types.js';
import { finding } from './types.js';

/** A reflector's list/watch failure, in any client-go release's wording. */
const listWatchFailure =
  /[Ff]ailed to (?:list|watch) \*v1(?:beta1)?\.(?:Service|EndpointSlice|Endpoints|Node|ServiceCIDR)|"Failed to watch"|Failed to retrieve node info/;
/**
 * Evidence that the watch caches are (re)established. A sync is not: kube-proxy keeps
 * resyncing its cached (stale) state while the watch fails, and "SyncProxyRules complete"
 * closes failed syncs too (pkg/proxy/iptables/proxier.go, syncProxyRules' defers).
 */
const recovered = /Caches are synced/;
/** Errors newer than this before the observation are an ongoing outage (reflectors retry within seconds). */
const currentWindowMs = 5 * 60 * 1000;

const causes: { pattern: RegExp; label: string }[] = [
  { pattern: /Unauthorized/, label: 'Unauthorized (service account token rejected)' },
  { pattern: /forbidden|Forbidden/, label: 'Forbidden (RBAC)' },
  { pattern: /connection refused/, label: 'connection refused' },
  { pattern: /i\/o timeout|context deadline exceeded|Client.Timeout/, label: 'timeout' },
  { pattern: /TLS handshake timeout/, label: 'TLS handshake timeout' },
  { pattern: /no such host/, label: 'DNS failure for the API endpoint' },
  { pattern: /connection reset by peer|EOF/, label: 'connection reset' },
];

/** SOP 2B: can kube-proxy list/watch Services, EndpointSlices and its Node? */
export const apiConnectivity: Check = {
  id: 'kube-proxy.api',
  domain: 'api-connectivity',
  title: 'kube-proxy can list/watch the API server',
  run(view, facts) {
    const verdicts: Record<string, NodeVerdict> = {};
    const evidence: string[] = [];
    const failing: string[] = [];
    const causeLabels = new Set<string>();
    let unknown = 0;
    const record = (node: string, r: NodeApi) => {
      verdicts[node] = r.verdict;
      evidence.push(...r.evidence);
      if (r.cause) causeLabels.add(r.cause);
      if (r.verdict.status === 'fail') failing.push(node);
    };
    for (const node of facts.nodesInScope) {
      const r = nodeApi(node, view.observedAt, facts);
      if (r.verdict.status === 'unknown') unknown++;
      record(node, r);
    }
    if (failing.length > 0 && view.target.node) {
      // Blast radius: every node whose kube-proxy log shows the same watch failure.
      for (const node of facts.knownNodes) {
        if (node in verdicts) continue;
        const r = nodeApi(node, view.observedAt, facts);
        if (r.verdict.status === 'fail') record(node, r);
      }
    }
    if (failing.length > 0) {
      const causeText = [...causeLabels].join(', ');
      return finding(
        this,
        'fail',
        `kube-proxy cannot list/watch the API server on ${failing.length} node(s): ${causeText}`,
        {
          evidence: evidence.slice(0, 12),
          nodes: verdicts,
          suspect: {
            category: 'api_connectivity',
            score: 0.9,
            detail: `kube-proxy on ${failing.length === 1 ? failing[0] : `${failing.length} nodes`} cannot list/watch Services/EndpointSlices (${causeText}); its rules go stale`,
            nodes: failing,
          },
        },
      );
    }
    if (unknown === facts.nodesInScope.length)
      return finding(this, 'unknown', 'no kube-proxy logs to read', { nodes: verdicts });
    return finding(this, 'pass', 'no current list/watch failures in kube-proxy logs', {
      evidence: evidence.slice(0, 6),
    });
  },
};

export interface NodeApi {
  readonly verdict: NodeVerdict;
  readonly evidence: string[];
  readonly cause?: string;
}

/** kube-proxy's list/watch state on one node, from its log (the EKS path check reads it too). */
export function nodeApi(node: string, observedAt: Date, facts: Facts): NodeApi {
  const pod = facts.kubeProxyPodsByNode.get(node)?.[0];
  if (!pod) return { verdict: { status: 'unknown', summary: 'no kube-proxy pod' }, evidence: [] };
  const log = facts.kubeProxyLog(pod.metadata.name, 'current');
  if (log.state === 'missing') return { verdict: { status: 'unknown', summary: log.reason }, evidence: [] };
  const split = splitErrors(log.value, listWatchFailure, recovered);
  const lastError = split.current.at(-1) ?? split.history.at(-1);
  const ongoing =
    lastError !== undefined &&
    observedAt.getTime() - lastError.time.getTime() <= currentWindowMs &&
    !hasRecoveryAfter(log.value, lastError);
  if (!ongoing) {
    const old = split.current.length + split.history.length;
    return {
      verdict: {
        status: 'pass',
        summary: old ? `${old} old list/watch error(s), recovered` : 'no list/watch errors',
      },
      evidence: old
        ? [
            `${pod.metadata.name}: ${old} list/watch error(s) before ${split.lastSuccess?.time.toISOString() ?? 'recovery'} (history, not cause)`,
          ]
        : [],
    };
  }
  const errors = [...split.history, ...split.current].filter(
    (l) => l.time.getTime() >= observedAt.getTime() - currentWindowMs,
  );
  const cause = classify(errors);
  return {
    verdict: { status: 'fail', summary: `${errors.length} list/watch failure(s): ${cause}` },
    evidence: firstAndLast(errors).map((l) => `${pod.metadata.name} log: ${l.raw}`),
    cause,
  };
}

function hasRecoveryAfter(lines: readonly KlogLine[], error: KlogLine): boolean {
  const i = lines.indexOf(error);
  return lines.slice(i + 1).some((l) => /Caches are synced/.test(l.message));
}

function classify(lines: readonly KlogLine[]): string {
  const text = lines.map((l) => l.message).join('\n');
  return causes.find((c) => c.pattern.test(text))?.label ?? 'list/watch errors';
}
