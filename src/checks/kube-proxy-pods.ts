import type { Pod } from '../cluster/kube-types.js';
import { type CrashReason, crashReason } from './lib/crash-reason.js';
import type { Facts } from './lib/facts.js';
import { isPodReady, lastTermination, podProblems, restartCount } from './lib/pods.js';
import type { Check, NodeVerdict } from './types.js';
import { finding } from './types.js';

const crashReasons = new Set([
  'CrashLoopBackOff',
  'OOMKilled',
  'Error',
  'ImagePullBackOff',
  'ErrImagePull',
  'CreateContainerConfigError',
  'Failed',
  'Pending',
  'Unknown',
  'NotReady',
  'Terminating',
  'ContainerCreating',
]);

/**
 * SOP prerequisite: is kube-proxy running on the affected node(s)? CrashLoopBackOff,
 * OOMKilled, Error or missing there is the root cause; restarts are reported with the
 * reason from the previous container's log.
 */
export const kubeProxyPods: Check = {
  id: 'kube-proxy.pods',
  domain: 'kube-proxy',
  title: 'kube-proxy running on the affected nodes',
  run(view, facts) {
    if (view.kubeProxy.pods.state === 'missing')
      return finding(this, 'unknown', `cannot read kube-proxy pods: ${view.kubeProxy.pods.reason}`);
    const ds = view.kubeProxy.daemonSet.state === 'collected' ? view.kubeProxy.daemonSet.value : undefined;
    if (view.kubeProxy.pods.value.length === 0 && view.kubeProxy.daemonSet.state === 'collected' && !ds) {
      return finding(
        this,
        'warn',
        'no kube-proxy DaemonSet or pods: the cluster may use a kube-proxy replacement (e.g. Cilium); rule checks assume kube-proxy',
      );
    }
    const evidence: string[] = [];
    if (ds?.status) {
      const s = ds.status;
      evidence.push(
        `DaemonSet kube-system/kube-proxy: desired=${s.desiredNumberScheduled ?? '?'} current=${s.currentNumberScheduled ?? '?'} ready=${s.numberReady ?? '?'} unavailable=${s.numberUnavailable ?? 0}`,
      );
    }
    const verdicts: Record<string, NodeVerdict> = {};
    const reasons = new Map<string, CrashReason>();
    const down: string[] = [];
    const restarted: string[] = [];
    for (const node of facts.nodesInScope) {
      const verdict = nodeVerdict(node, facts, evidence, reasons);
      verdicts[node] = verdict;
      if (verdict.status === 'fail') down.push(node);
      else if (verdict.status === 'warn') restarted.push(node);
    }
    if (down.length > 0) {
      // Blast radius: kube-proxy pods are read cluster-wide, so every node with the same
      // failure is named, not only the node in question.
      const elsewhere = sameFailureElsewhere(facts, evidence, verdicts, reasons);
      return crashFinding(this, [...down, ...elsewhere].sort(), facts, evidence, verdicts, reasons);
    }
    if (restarted.length > 0) {
      return finding(
        this,
        'warn',
        `kube-proxy running, but restarted on ${restarted.slice(0, 5).join(', ')}`,
        { evidence: evidence.slice(0, 20), nodes: verdicts },
      );
    }
    return finding(
      this,
      'pass',
      `kube-proxy Running and Ready on ${facts.nodesInScope.length} node(s) in scope`,
      { evidence: evidence.slice(0, 5) },
    );
  },
};

function sameFailureElsewhere(
  facts: Facts,
  evidence: string[],
  verdicts: Record<string, NodeVerdict>,
  reasons: Map<string, CrashReason>,
): string[] {
  const scope = new Set(facts.nodesInScope);
  const out: string[] = [];
  for (const node of facts.knownNodes) {
    if (scope.has(node) || !facts.kubeProxyPodsByNode.has(node)) continue;
    const extra: string[] = [];
    const verdict = nodeVerdict(node, facts, extra, reasons);
    if (verdict.status !== 'fail') continue;
    verdicts[node] = verdict;
    evidence.push(...extra);
    out.push(node);
  }
  return out;
}

function crashFinding(
  check: Pick<Check, 'id' | 'domain'>,
  down: readonly string[],
  facts: Facts,
  evidence: readonly string[],
  verdicts: Record<string, NodeVerdict>,
  reasons: ReadonlyMap<string, CrashReason>,
) {
  const total = facts.clusterSize;
  const all = down.length === total && total > 1;
  const crashLooping = down.every((n) => /CrashLoopBackOff/.test(verdicts[n]?.summary ?? ''));
  const where = all
    ? `all ${down.length} nodes`
    : `${down.slice(0, 5).join(', ')}${down.length > 5 ? ` and ${down.length - 5} more` : ''}`;
  const headline = all
    ? `kube-proxy ${crashLooping ? 'CrashLoopBackOff' : 'not running'} on all nodes — cluster-wide service outage`
    : `kube-proxy not running on ${where}`;
  // The crash's own reason decides the domain: the node in question first, then any.
  const reason =
    facts.nodesInScope.map((n) => reasons.get(n)).find((r) => r !== undefined) ??
    down.map((n) => reasons.get(n)).find((r) => r !== undefined);
  const nodesText =
    down.length === 1 ? `node ${down[0]}` : all ? `all ${down.length} nodes` : `${down.length} nodes`;
  const because = reason ? `: its previous log says ${reason.label}` : ': Service rules are not synced there';
  return finding(check, 'fail', headline, {
    evidence: [...(reason ? [`${reason.label}: ${reason.line.raw}`] : []), ...evidence].slice(0, 20),
    nodes: verdicts,
    suspect: {
      category: reason?.category ?? 'pod_crash',
      score: 0.95,
      detail: `${all ? `${headline}. ` : ''}kube-proxy not running on ${nodesText} (${summarizeReasons(down, verdicts)})${because}`,
      nodes: down,
    },
  });
}

function nodeVerdict(
  node: string,
  facts: Facts,
  evidence: string[],
  reasons: Map<string, CrashReason>,
): NodeVerdict {
  const pods = facts.kubeProxyPodsByNode.get(node) ?? [];
  if (pods.length === 0) {
    evidence.push(`Node ${node}: no kube-proxy pod scheduled`);
    return { status: 'fail', summary: 'kube-proxy missing' };
  }
  const running = pods.find((p) => isPodReady(p) && !p.metadata.deletionTimestamp);
  if (running) {
    const restarts = restartCount(running);
    if (restarts === 0) return { status: 'pass', summary: 'Running' };
    const last = lastTermination(running);
    evidence.push(
      `Pod kube-system/${running.metadata.name} on ${node}: Running, restartCount=${restarts}${last ? `, last terminated ${last.reason} (exit ${last.exitCode ?? '?'}) at ${last.finishedAt ?? '?'}` : ''}`,
    );
    evidence.push(...previousLogReason(running, facts));
    return {
      status: 'warn',
      summary: `Running after ${restarts} restart(s)${last ? ` (last: ${last.reason})` : ''}`,
    };
  }
  const pod = pods[0] as Pod;
  const problems = podProblems(pod);
  evidence.push(...problems.map((p) => `${p.evidence} (node ${node})`));
  evidence.push(...previousLogReason(pod, facts));
  const previous = facts.kubeProxyLog(pod.metadata.name, 'previous');
  const why = previous.state === 'collected' ? crashReason(previous.value) : undefined;
  if (why) reasons.set(node, why);
  const reason =
    problems.find((p) => crashReasons.has(p.reason))?.reason ?? problems[0]?.reason ?? 'not Ready';
  const last = lastTermination(pod);
  return {
    status: 'fail',
    summary: last && reason === 'CrashLoopBackOff' ? `${reason} (last: ${last.reason})` : reason,
  };
}

/** The error lines that ended the previous container: the crash reason in kube-proxy's words. */
function previousLogReason(pod: Pod, facts: Facts): string[] {
  const log = facts.kubeProxyLog(pod.metadata.name, 'previous');
  if (log.state === 'missing') return [];
  const errors = log.value.filter((l) => l.severity === 'E' || l.severity === 'F');
  return errors.slice(-3).map((l) => `${pod.metadata.name} previous log: ${l.raw}`);
}

function summarizeReasons(nodes: readonly string[], verdicts: Record<string, NodeVerdict>): string {
  const reasons = [...new Set(nodes.map((n) => verdicts[n]?.summary ?? '?'))];
  return reasons.slice(0, 3).join(', ');
}
