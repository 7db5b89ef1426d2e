/**
 * The starts (issue 16): the bot acks a diagnose command whose start its admission script
 * queued (admission.ts; start-mover.ts hands it to this queue); this worker, on the worker
 * process, posts the thread's parent and
 * queues the diagnosis, or joins the thread already diagnosing the target (startOrJoin,
 * the same steps the bot runs itself in `npm start`). The bot's event loop does
 * nothing for a command after its ack.
 *
 * Every acknowledged command still ends in a report or a stated failure: a start that
 * fails is told in its thread, or (before a thread exists) to the user through the
 * command's response_url. A start whose worker process stopped half-way is run again by
 * BullMQ (a stalled job) and resumes its own claim on the target (same request id); one
 * that cannot be run again is told to its user as well.
 */
import { type ConnectionOptions, type Job, Worker, type WorkerOptions } from 'bullmq';
import type { BotDeps } from '../bot/app.js';
import { StartFailed, startOrJoin } from '../bot/start-diagnosis.js';
import { errorMessage } from '../errors.js';
import { keys, type StartJob, startJobSchema, startQueueName } from '../queue/jobs.js';
import { escapeMrkdwn } from '../report/blocks.js';

/** Starts mostly wait (for a channel's post slot, for Slack): many run at once. */
const startConcurrency = 50;
/** How long telling the user through Slack's response_url may take. */
const tellTimeoutMs = 10_000;

/** A start's done key outlives BullMQ's finished start jobs (jobs.ts: 1 h, failed 24 h). */
const doneTtlSeconds = 7 * 24 * 3600;

export type StartWorkerDeps = Pick<BotDeps, 'redis' | 'queue' | 'poster' | 'logger' | 'metrics'> & {
  readonly connection: ConnectionOptions;
  /** Tests: BullMQ's stalled-job settings. */
  readonly workerOptions?: Partial<WorkerOptions>;
};

export function startStartWorker(deps: StartWorkerDeps): Worker {
  const worker = new Worker(startQueueName, (job) => runStart(deps, job), {
    connection: deps.connection,
    concurrency: startConcurrency,
    ...deps.workerOptions,
  });
  // Only a start that could not run to its end lands here (runStart tells its own failures):
  // its worker stopped more often than BullMQ runs a stalled job again, or its data is not
  // a start.
  worker.on('failed', (job, error) => {
    deps.logger.error('start job failed', { jobId: job?.id, error: errorMessage(error) });
    const data = startJobSchema.safeParse(job?.data);
    if (data.success)
      void tell(
        deps,
        data.data,
        ':warning: kproxy was restarting and could not start this diagnosis; run the command again.',
      );
  });
  worker.on('error', (error) => deps.logger.error('worker error (start)', { error: errorMessage(error) }));
  return worker;
}

async function runStart(deps: StartWorkerDeps, job: Job): Promise<void> {
  const data = startJobSchema.parse(job.data);
  const done = keys.startDone(data.requestId);
  // Re-added by a mover after BullMQ removed the finished job (start-mover.ts): it ran already.
  if (await deps.redis.exists(done)) return;
  const request = { cluster: data.cluster, target: data.target, channel: data.channel, user: data.user };
  try {
    await startOrJoin(deps, request, data.requestId);
  } catch (error) {
    deps.logger.error('could not start a diagnosis', { error: errorMessage(error) });
    if (!(error instanceof StartFailed && error.told))
      await tell(
        deps,
        data,
        `:x: kproxy could not start the diagnosis: ${escapeMrkdwn(errorMessage(error))}. Nothing is running; run the command again.`,
      );
  }
  // Not fatal: without it, only a re-add after BullMQ forgot the job could run it again.
  await deps.redis
    .set(done, '1', 'EX', doneTtlSeconds)
    .catch((error) => deps.logger.warn('could not mark a start done', { error: errorMessage(error) }));
}

/** To the user who ran the command, as Bolt's respond() does (an ephemeral message). */
async function tell(deps: Pick<StartWorkerDeps, 'logger'>, job: StartJob, text: string): Promise<void> {
  if (!job.responseUrl) {
    deps.logger.warn('could not tell the user: the command had no response_url', { user: job.user });
    return;
  }
  try {
    const res = await fetch(job.responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', text }),
      signal: AbortSignal.timeout(tellTimeoutMs),
    });
    if (!res.ok) throw new Error(`response_url answered ${res.status}`);
  } catch (error) {
    deps.logger.warn('could not tell the user', { error: errorMessage(error) });
  }
}
