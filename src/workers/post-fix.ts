/**
 * The post-fix check after an approved action (the runbooks' verification step). Right
 * after a write the cluster is in transition — a deleted kube-proxy pod's replacement is
 * starting, its rules not yet synced — so one diagnosis says little. The check re-diagnoses
 * until the cluster is healthy or a bounded number of attempts has passed, and only a
 * healthy result is "cleared"; anything else is "not cleared", with what it is now.
 */
import type { Diagnosis } from '../engine/diagnosis.js';
import { escapeMrkdwn } from '../report/blocks.js';
import { probeAfterFix } from './post-fix-probe.js';

export interface PostFixWait {
  /** Diagnoses at most (the first right away). */
  readonly attempts: number;
  /** Pause between two of them. */
  readonly delayMs: number;
}

/** About a minute: kube-proxy's replacement pod is normally Ready and synced well within it. */
export const defaultPostFixWait: PostFixWait = { attempts: 6, delayMs: 10_000 };

/** Re-diagnoses until healthy or out of attempts; resolves with the last diagnosis. */
export async function settledDiagnosis(
  run: () => Promise<Diagnosis>,
  wait: PostFixWait,
  signal?: AbortSignal,
): Promise<Diagnosis> {
  for (let attempt = 1; ; attempt++) {
    const d = await run();
    if (healthy(d) || attempt >= wait.attempts || signal?.aborted) return d;
    await new Promise((r) => setTimeout(r, wait.delayMs));
  }
}

/** Healthy: nothing found, and the data to say so was there. */
function healthy(d: Diagnosis): boolean {
  return d.rootCause.category === 'none' && d.verdict !== 'inconclusive';
}

/** The thread's verdict on the action, from the settled diagnosis. */
export function verificationText(before: string, d: Diagnosis): string {
  return `${verdictText(before, d)}${probeAfterFix(d)}`;
}

function verdictText(before: string, d: Diagnosis): string {
  const now = d.rootCause.category;
  if (d.verdict === 'inconclusive')
    return `:grey_question: Post-fix check: inconclusive, \`${before}\` could not be verified — ${escapeMrkdwn(d.rootCause.detail)}`;
  if (now === 'none')
    return `:white_check_mark: Post-fix check: \`${before}\` cleared (now: no fault found).`;
  const detail = escapeMrkdwn(d.rootCause.detail);
  return now === before
    ? `:warning: Post-fix check: \`${before}\` is still the root cause — ${detail}`
    : `:warning: Post-fix check: \`${before}\` not cleared: now \`${now}\` — ${detail}`;
}
