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

export function splitErrors(
  lines: readonly KlogLine[],
  isError: (line: KlogLine) => boolean,
  isSuccess: (line: KlogLine) => boolean,
): ErrorTimeline {
  let lastSuccessIndex = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (isSuccess(lines[i] as KlogLine)) {
      lastSuccessIndex = i;
      break;
    }
  }
  const current: KlogLine[] = [];
  const history: KlogLine[] = [];
  lines.forEach((line, i) => {
    if (!isError(line)) return;
    (i > lastSuccessIndex ? current : history).push(line);
  });
  return { current, history, lastSuccess: lastSuccessIndex >= 0 ? lines[lastSuccessIndex] : undefined };
}

/** First and last of a run of errors, for evidence without flooding the report. */
export function firstAndLast(lines: readonly KlogLine[]): KlogLine[] {
  if (lines.length <= 2) return [...lines];
  return [lines[0] as KlogLine, lines[lines.length - 1] as KlogLine];
}
