/**
 * Every Redis connection of a process, opened in one place so that each has an error
 * listener (ioredis and BullMQ otherwise print raw multi-line `Error:` dumps to stderr
 * on every reconnect attempt) and so that shutdown can close them all within a bound,
 * whether Redis answers or not.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { errorMessage } from './errors.js';
import type { Logger } from './log.js';

/** Anything that emits 'error' events: ioredis clients, BullMQ queues and workers. */
export interface ErrorEmitter {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export class RedisConnections {
  private readonly opened: Redis[] = [];

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  open(purpose: string, options: RedisOptions): Redis {
    const redis = new Redis(this.url, options);
    this.watch(redis, `redis error (${purpose})`);
    this.opened.push(redis);
    return redis;
  }

  /** Logs an emitter's errors as JSON (the logger collapses repeats). */
  watch<T extends ErrorEmitter>(emitter: T, message: string): T {
    emitter.on('error', (error) => this.logger.warn(message, { error: errorMessage(error) }));
    return emitter;
  }

  /**
   * QUIT where Redis answers (pending replies are delivered), a plain disconnect where it
   * does not: QUIT on a connection that is reconnecting waits for Redis forever.
   */
  async closeAll(boundMs: number): Promise<void> {
    const quits = this.opened.map((redis) =>
      redis.status === 'ready' ? redis.quit().catch(() => undefined) : Promise.resolve(redis.disconnect()),
    );
    await withinBound(Promise.all(quits), boundMs);
    for (const redis of this.opened) if (redis.status !== 'end') redis.disconnect();
  }
}

/** Resolves when the work settles or the bound passes, whichever is first. */
export async function withinBound(work: Promise<unknown>, boundMs: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), boundMs);
    timer.unref();
  });
  try {
    return await Promise.race([
      work.then(
        () => 'done' as const,
        () => 'done' as const,
      ),
      bound,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
