/**
 * Starting a diagnosis after the command was acknowledged: the thread's parent is posted and
 * the job queued, or the request joins the thread already diagnosing the same target. An
 * acknowledged command is never dropped silently: Redis steps after the parent is posted
 * are retried (they are idempotent: same keys, same job id), and if it still cannot be
 * queued the thread (or, without a thread, the user) is told why. On shutdown the bot
 * waits (bounded) for the commands it is still starting, and tells the users of those it
 * could not finish.
 */
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../errors.js';
import {
  type DiagnoseJob,
  enqueueDiagnosis,
  keys,
  type RunningDiagnosis,
  targetLabel,
} from '../queue/jobs.js';
import { escapeMrkdwn } from '../report/blocks.js';
import { queueParentLines, requestedHeadline } from '../slack/messages.js';
import type { BotDeps } from './app.js';

/** How long a target stays "being diagnosed" if its worker never reports (crash safety). */
const runningTtlSeconds = 15 * 60;
/** Redis steps after the parent is posted: tries, and the pause between two. */
const queueTries = 4;
const queueRetryMs = 1_000;

export interface StartRequest {
  readonly cluster: string;
  readonly target: DiagnoseJob['target'];
  readonly channel: string;
  readonly user: string;
}
type Request = StartRequest;

type StartDeps = Pick<BotDeps, 'redis' | 'queue' | 'poster' | 'logger' | 'metrics'>;

/**
 * `requestId` names the diagnosis: a start run again with the same id (the worker process
 * that ran it stopped half-way) finds its own claim on the target and carries on from it.
 */
export async function startOrJoin(
  deps: StartDeps,
  request: Request,
  requestId: string = randomUUID(),
): Promise<'started' | 'joined'> {
  const runningKey = keys.running(request.cluster, request.target);
  const label = targetLabel(request.cluster, request.target);
  const jobId = `diag__${requestId}`;
  const running = await claim(deps, runningKey, jobId, request.channel);
  if (running && running.jobId !== jobId) {
    await join(deps, request, running, label);
    return 'joined';
  }
  let parent: { channel: string; ts: string } | undefined =
    running?.channel && running.threadTs ? { channel: running.channel, ts: running.threadTs } : undefined;
  try {
    parent ??= await deps.poster.post(request.channel, { text: requestedHeadline(label, request.user) });
    const thread = parent;
    await retried(async () => {
      // The parent's lines and the target's thread in one transaction (one round trip).
      const tx = queueParentLines(deps.redis.multi(), thread.channel, thread.ts, {
        head: requestedHeadline(label, request.user),
      }).set(
        runningKey,
        JSON.stringify({ jobId, channel: thread.channel, threadTs: thread.ts } satisfies RunningDiagnosis),
        'EX',
        runningTtlSeconds,
      );
      failIfAny(await tx.exec());
      await enqueueDiagnosis(deps.queue, {
        requestId,
        cluster: request.cluster,
        target: request.target,
        channel: thread.channel,
        threadTs: thread.ts,
        requestedBy: request.user,
        runningKey,
      });
    });
    deps.metrics.inc('kproxy_jobs_enqueued_total', {});
    return 'started';
  } catch (error) {
    await deps.redis.del(runningKey).catch(() => undefined);
    if (parent)
      await deps.poster
        .post(parent.channel, {
          threadTs: parent.ts,
          text: `:x: kproxy could not start this diagnosis: ${escapeMrkdwn(errorMessage(error))}. Nothing is running; run the command again.`,
        })
        .catch((e) => deps.logger.warn('could not tell the thread', { error: errorMessage(e) }));
    throw new StartFailed(error, parent !== undefined);
  }
}

/** Claims the target for this diagnosis; when it is taken already, what holds it. */
async function claim(
  deps: Pick<StartDeps, 'redis'>,
  runningKey: string,
  jobId: string,
  channel: string,
): Promise<Partial<RunningDiagnosis> | undefined> {
  const claimed = await deps.redis.set(
    runningKey,
    JSON.stringify({ jobId, channel, threadTs: '' }),
    'EX',
    runningTtlSeconds,
    'NX',
  );
  if (claimed === 'OK') return undefined;
  return JSON.parse((await deps.redis.get(runningKey)) ?? '{}') as Partial<RunningDiagnosis>;
}

/** A start that failed; `told`: its thread already says so. */
export class StartFailed extends Error {
  constructor(
    readonly cause: unknown,
    readonly told: boolean,
  ) {
    super(errorMessage(cause));
  }
}

/** A transaction's replies: the first error among them is thrown (the step is retried). */
function failIfAny(replies: [Error | null, unknown][] | null): void {
  if (!replies) throw new Error('the Redis transaction was aborted');
  for (const [error] of replies) if (error) throw error;
}

/** A step retried (the start's Redis steps are idempotent: same keys, same job ids). */
export async function retried(step: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= queueTries) throw error;
      await new Promise((r) => setTimeout(r, queueRetryMs));
    }
  }
}

/** Commands acknowledged and still being started, so shutdown can wait for them. */
export class PendingStarts {
  private readonly pending = new Set<{ done: Promise<unknown>; tell: (text: string) => Promise<unknown> }>();

  track(done: Promise<unknown>, tell: (text: string) => Promise<unknown>): void {
    const entry = { done, tell };
    this.pending.add(entry);
    void done.finally(() => this.pending.delete(entry));
  }

  get size(): number {
    return this.pending.size;
  }

  /** Waits up to `ms` for the starts in flight; tells the users of the rest. */
  async drain(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending].map((p) => p.done)),
      new Promise((r) => {
        timer = setTimeout(r, ms);
      }),
    ]);
    clearTimeout(timer);
    await Promise.allSettled(
      [...this.pending].map((p) =>
        p.tell(':warning: kproxy is restarting and could not start this diagnosis; run the command again.'),
      ),
    );
  }
}

async function join(
  deps: Pick<StartDeps, 'redis' | 'poster'>,
  request: Request,
  running: Partial<RunningDiagnosis>,
  label: string,
): Promise<void> {
  if (running.channel && running.threadTs) {
    const link = await deps.poster.permalink(running.channel, running.threadTs);
    if (running.channel === request.channel) {
      await deps.poster.post(request.channel, {
        text: `<@${request.user}> also asked for ${label}; this thread has it.`,
        threadTs: running.threadTs,
      });
    } else {
      await deps.poster.post(request.channel, {
        text: `<@${request.user}> ${label} is already being diagnosed${link ? `: ${link}` : ' in another channel'}`,
      });
    }
    return;
  }
  await deps.poster.post(request.channel, {
    text: `<@${request.user}> ${label} is already being diagnosed; its thread opens in a moment.`,
  });
}
