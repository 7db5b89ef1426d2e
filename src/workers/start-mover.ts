/**
 * The worker side of the durable start handoff (issue 16). The bot's admission script
 * appends each admitted command's start to a Redis list in the call that admits it, before
 * the ack (a bot that stops right after its ack loses nothing); this mover hands the list's
 * items to the start queue (start-worker.ts), reliably:
 *
 * - BLMOVE takes an item from `queued` into `moving` (atomic: each item to one mover, with
 *   any number of worker replicas), then `queue.add` under its request id, then LREM.
 * - A mover that stopped between BLMOVE and LREM leaves its item in `moving`: every mover
 *   sweeps `moving` and hands over again the items queued more than a grace time ago.
 *   Adding a start again is a no-op while BullMQ keeps its job (jobs.ts: one job per
 *   request id), and a start re-added after that is not run twice (start-worker.ts: the
 *   request's done key).
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { enqueueStart, type StartJob, startJobSchema, startListKeys } from '../queue/jobs.js';

/** How long one BLMOVE blocks: a stopping mover notices within this. */
const blockSeconds = 1;
/** A mover's item older than this in `moving` was left by a mover that stopped. */
const defaultGraceMs = 30_000;
const defaultSweepMs = 10_000;
/** After a Redis error, the loop pauses this long (Redis is restarting, or gone). */
const errorPauseMs = 1_000;

export interface StartMoverDeps {
  /** The mover's own connection (BLMOVE blocks it; maxRetriesPerRequest: null). */
  readonly blocking: Redis;
  /** For LREM and the sweep's LRANGE. */
  readonly redis: Redis;
  /** The `kproxy-start` queue. */
  readonly startQueue: Queue;
  readonly logger: Logger;
  /** Tests: the grace time and the sweep's interval. */
  readonly graceMs?: number;
  readonly sweepMs?: number;
}

export interface StartMover {
  /** Finishes the item in hand (if any), then stops. */
  stop(): Promise<void>;
}

export function startStartMover(deps: StartMoverDeps): StartMover {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const item = await deps.blocking.blmove(
          startListKeys.queued,
          startListKeys.moving,
          'LEFT',
          'RIGHT',
          blockSeconds,
        );
        if (item === null) continue;
        await handOver(deps, item);
      } catch (error) {
        if (stopped) break;
        deps.logger.warn('start mover: redis step failed', { error: errorMessage(error) });
        await new Promise((r) => setTimeout(r, errorPauseMs));
      }
    }
  })();
  const sweepNow = () =>
    sweep(deps).catch((error) =>
      deps.logger.warn('start mover: sweep failed', { error: errorMessage(error) }),
    );
  void sweepNow();
  const sweeper = setInterval(sweepNow, deps.sweepMs ?? defaultSweepMs);
  sweeper.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(sweeper);
      await loop;
    },
  };
}

/**
 * Adds the item's start to the queue, then drops the item from `moving`. A failed add
 * leaves it there for the sweep; an item that is not a start is dropped (logged).
 */
async function handOver(deps: StartMoverDeps, item: string): Promise<void> {
  const start = parseStart(item);
  if (start) await enqueueStart(deps.startQueue, start);
  else deps.logger.error('start mover: dropped an item that is not a start', { item: item.slice(0, 200) });
  await deps.redis.lrem(startListKeys.moving, 1, item);
}

/** Hands over again the items a stopped mover left in `moving` (older than the grace time). */
export async function sweep(deps: StartMoverDeps): Promise<number> {
  const graceMs = deps.graceMs ?? defaultGraceMs;
  let recovered = 0;
  for (const item of await deps.redis.lrange(startListKeys.moving, 0, -1)) {
    const queuedAt = parseStart(item)?.queuedAt ?? 0;
    if (Date.now() - queuedAt < graceMs) continue;
    await handOver(deps, item);
    recovered++;
  }
  if (recovered > 0) deps.logger.warn('start mover: recovered starts a stopped mover left', { recovered });
  return recovered;
}

function parseStart(item: string): StartJob | undefined {
  try {
    const parsed = startJobSchema.safeParse(JSON.parse(item));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
