/**
 * The runbook rule "errors older than the last successful sync are history, not cause",
 * applied to kube-proxy log lines.
 */
import type { KlogLine } from '../../cluster/parse/klog.js';

export interface ErrorTimeline {
  /** Matching errors after the last success: the current problem. */
  readonly current: readonly KlogLine[];
  /** Matching errors before the last success: history. */
  readonly history: readonly KlogLine[];
  readonly lastSuccess: KlogLine | undefined;
}

export function splitErrors(lines: readonly KlogLine[], isError: RegExp, isSuccess: RegExp): ErrorTimeline {
  // Patterns (without the g or y flag), not predicates: a 5,000-line log per node is read
  // in loops that test each message in place, not through a function call per line (most
  // of this runs before the JIT has compiled it, once per diagnosis).
  let lastSuccessIndex = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (isSuccess.test((lines[i] as KlogLine).message)) {
      lastSuccessIndex = i;
      break;
    }
  }
  const current: KlogLine[] = [];
  const history: KlogLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as KlogLine;
    if (isError.test(line.message)) (i > lastSuccessIndex ? current : history).push(line);
  }
  return { current, history, lastSuccess: lastSuccessIndex >= 0 ? lines[lastSuccessIndex] : undefined };
}

/**
 * `lines.find((l) => pattern.test(l.message))` (a pattern without the g or y flag), in a
 * loop that tests each message in place: the whole of a 5,000-line log when no line matches.
 */
export function firstMatching(lines: readonly KlogLine[], pattern: RegExp): KlogLine | undefined {
  for (const line of lines) if (pattern.test(line.message)) return line;
  return undefined;
}

/** First and last of a run of errors, for evidence without flooding the report. */
export function firstAndLast(lines: readonly KlogLine[]): KlogLine[] {
  if (lines.length <= 2) return [...lines];
  return [lines[0] as KlogLine, lines[lines.length - 1] as KlogLine];
}
