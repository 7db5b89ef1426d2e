/** Pod and node status helpers shared by checks. Pure. */
import type { Node, Pod } from '../../cluster/kube-types.js';

/**
 * Most pods a finding names as near misses of a Service's selector (one label off): the
 * bundle source validates no more of a namespace's other pods than this (selection.ts).
 */
export const nearMissesNamed = 3;

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function podNode(pod: Pod): string | undefined {
  return pod.spec.nodeName ?? undefined;
}

export function podRef(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`.replace(/^\//, '');
}

export interface PodProblem {
  /** CrashLoopBackOff, OOMKilled, Error, ImagePullBackOff, NotReady, Pending, … */
  readonly reason: string;
  readonly evidence: string;
}

/** Why a pod is not serving, from its phase, waiting/terminated states and conditions. */
export function podProblems(pod: Pod): PodProblem[] {
  const name = podRef(pod);
  const problems: PodProblem[] = [];
  const phase = pod.status?.phase ?? 'Unknown';
  if (pod.metadata.deletionTimestamp) {
    problems.push({
      reason: 'Terminating',
      evidence: `Pod ${name}: deletionTimestamp=${pod.metadata.deletionTimestamp}`,
    });
  }
  if (phase !== 'Running' && phase !== 'Succeeded') {
    problems.push({
      reason: phase,
      evidence: `Pod ${name}: phase=${phase}${pod.status?.reason ? ` reason=${pod.status.reason}` : ''}`,
    });
  }
  for (const cs of pod.status?.containerStatuses ?? []) {
    const waiting = cs.state?.waiting;
    const terminated = cs.state?.terminated;
    const last = cs.lastState?.terminated;
    if (waiting?.reason) {
      const lastText = last?.reason ? `; last terminated: ${last.reason} (exit ${last.exitCode ?? '?'})` : '';
      problems.push({
        reason: waiting.reason,
        evidence: `Pod ${name} container ${cs.name}: waiting ${waiting.reason}${lastText}, restartCount=${cs.restartCount}`,
      });
    } else if (terminated?.reason) {
      problems.push({
        reason: terminated.reason,
        evidence: `Pod ${name} container ${cs.name}: terminated ${terminated.reason} (exit ${terminated.exitCode ?? '?'})`,
      });
    }
  }
  if (phase === 'Running' && problems.length === 0 && !isPodReady(pod)) {
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
    problems.push({
      reason: 'NotReady',
      evidence: `Pod ${name}: Ready=${ready?.status ?? 'unknown'}${ready?.reason ? ` (${ready.reason})` : ''}${ready?.message ? `: ${ready.message}` : ''}`,
    });
  }
  return problems;
}

export function restartCount(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, cs) => n + cs.restartCount, 0);
}

/** The last termination reason of any container (OOMKilled, Error, Completed). */
export function lastTermination(
  pod: Pod,
): { reason: string; exitCode: number | undefined; finishedAt: string | undefined } | undefined {
  for (const cs of pod.status?.containerStatuses ?? []) {
    const t = cs.lastState?.terminated ?? cs.state?.terminated;
    if (t?.reason)
      return { reason: t.reason, exitCode: t.exitCode ?? undefined, finishedAt: t.finishedAt ?? undefined };
  }
  return undefined;
}

export function nodeCondition(node: Node, type: string) {
  return node.status?.conditions?.find((c) => c.type === type);
}

export function nodeName(node: Node): string {
  return node.metadata.name;
}
