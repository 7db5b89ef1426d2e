/**
 * The admission script calls of one event-loop turn, sent to Redis as one pipeline (one
 * socket write, one read for the replies) instead of one write each (issue 16). Under a
 * burst of commands the bot's main thread is the bottleneck, and a write to Redis cost it
 * about as much as the ack's own HTTP write (CPU profile of the 200-concurrent level).
 * Each command still takes exactly one round trip; a lone command waits one setImmediate.
 *
 * Not ioredis' enableAutoPipelining: that batches per process.nextTick (one request's
 * handling, not the requests read in one turn) and can throw outside any caller when a
 * command of a batch fails (redis/ioredis#1931). Here each caller gets its own reply or
 * error from the pipeline's results, and a pipeline that cannot be sent fails each caller.
 */
import type { Redis } from 'ioredis';

type Pending = {
  readonly script: string;
  readonly args: (string | number)[];
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
};

const batches = new WeakMap<Redis, Pending[]>();

/** `EVAL script numKeys ...args` on `redis`, in the pipeline of this event-loop turn. */
export function evalBatched(redis: Redis, script: string, args: (string | number)[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let batch = batches.get(redis);
    if (!batch) {
      batch = [];
      batches.set(redis, batch);
      setImmediate(() => flush(redis));
    }
    batch.push({ script, args, resolve, reject });
  });
}

function flush(redis: Redis): void {
  const batch = batches.get(redis) ?? [];
  batches.delete(redis);
  const pipeline = redis.pipeline();
  for (const { script, args } of batch) pipeline.eval(script, ...(args as [number, ...(string | number)[]]));
  pipeline.exec().then(
    (results) =>
      batch.forEach((p, i) => {
        const [error, reply] = results?.[i] ?? [new Error('the Redis pipeline returned no reply'), null];
        if (error) p.reject(error);
        else p.resolve(reply);
      }),
    (error: unknown) => {
      for (const p of batch) p.reject(error);
    },
  );
}
