/**
 * The thread's parent message is composed of lines kept in Redis — the headline (who
 * asked, or which PagerDuty incident), the diagnosis line (progress, then the result)
 * and the incident status — so the workers that edit it never overwrite each other.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { Diagnosis } from '../engine/diagnosis.js';
import { escapeMrkdwn } from '../report/blocks.js';
import type { SlackPoster } from './poster.js';

export type ParentLine = 'head' | 'diag' | 'status';

const parentKey = (channel: string, ts: string) => `kproxy:parent:${channel}:${ts}`;
const ttlSeconds = 7 * 24 * 3600;

export function requestedHeadline(label: string, requestedBy: string): string {
  return `:mag: Diagnosing ${escapeMrkdwn(label)}, requested by <@${requestedBy}>`;
}

export function progressLine(done: number, total: number, phase: string): string {
  return `:hourglass_flowing_sand: ${done}/${total} checks · ${escapeMrkdwn(phase)}`;
}

export function doneLine(d: Diagnosis): string {
  const cause =
    d.verdict === 'inconclusive'
      ? ':grey_question: inconclusive: data missing'
      : d.rootCause.category === 'none'
        ? ':white_check_mark: no fault found'
        : `:red_circle: \`${d.rootCause.category}\` (${d.severity})`;
  return `${cause} — findings in the thread`;
}

export function failedLine(reason: string): string {
  return `:x: the diagnosis failed: ${escapeMrkdwn(reason)}`;
}

/**
 * Records the parent's lines when it is first posted, queued on the caller's transaction or
 * pipeline: the start of a diagnosis sends them with its other keys in one round trip.
 */
export function queueParentLines(
  tx: ChainableCommander,
  channel: string,
  ts: string,
  lines: Partial<Record<ParentLine, string>>,
): ChainableCommander {
  const key = parentKey(channel, ts);
  return tx.hset(key, lines).expire(key, ttlSeconds);
}

/** Records the parent's lines when it is first posted. */
export async function rememberParent(
  redis: Redis,
  channel: string,
  ts: string,
  lines: Partial<Record<ParentLine, string>>,
): Promise<void> {
  const key = parentKey(channel, ts);
  await redis.hset(key, lines);
  await redis.expire(key, ttlSeconds);
}

/** Sets one line of the parent and re-renders it with the others. */
export async function updateParent(
  redis: Redis,
  poster: SlackPoster,
  channel: string,
  ts: string,
  line: ParentLine,
  text: string,
): Promise<void> {
  const key = parentKey(channel, ts);
  await redis.hset(key, line, text);
  await redis.expire(key, ttlSeconds);
  const lines = await redis.hgetall(key);
  await poster.update(channel, ts, {
    text: [lines.head, lines.diag, lines.status].filter(Boolean).join('\n'),
  });
}
