/** Texts of the thread's parent message and its updates. */
import type { Diagnosis } from '../engine/diagnosis.js';
import { escapeMrkdwn } from '../report/blocks.js';

export function parentStarted(label: string, requestedBy: string): string {
  return `:mag: Diagnosing ${escapeMrkdwn(label)}, requested by <@${requestedBy}>`;
}

export function parentProgress(
  label: string,
  requestedBy: string,
  done: number,
  total: number,
  phase: string,
): string {
  return `${parentStarted(label, requestedBy)}\n:hourglass_flowing_sand: ${done}/${total} checks · ${escapeMrkdwn(phase)}`;
}

export function parentDone(label: string, requestedBy: string, d: Diagnosis): string {
  const cause =
    d.rootCause.category === 'none'
      ? ':white_check_mark: no fault found'
      : `:red_circle: \`${d.rootCause.category}\` (${d.severity})`;
  return `${parentStarted(label, requestedBy)}\n${cause} — findings in the thread`;
}

export function parentFailed(label: string, requestedBy: string, reason: string): string {
  return `${parentStarted(label, requestedBy)}\n:x: the diagnosis failed: ${escapeMrkdwn(reason)}`;
}
