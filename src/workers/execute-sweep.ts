/**
 * The execute worker's sweeps, run on an interval by whichever worker gets there:
 * expired requests say so without waiting for a click; approved requests whose job was
 * never queued (the bot failed or restarted right after the vote) are queued; claimed
 * executions whose job failed or vanished are recorded `failed` and said in the thread.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ApprovalStore } from '../approvals/store.js';
import { refresh } from '../bot/approval-thread.js';
import type { Config } from '../config/config.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { enqueueExecution } from '../queue/jobs.js';
import { escapeMrkdwn } from '../report/blocks.js';
import type { SlackPoster } from '../slack/poster.js';
import { ExecutionLease } from './execution-lease.js';

export interface SweepDeps {
  readonly config: Config;
  readonly redis: Redis;
  readonly poster: SlackPoster;
  readonly logger: Logger;
}

/** How long the bot has to queue an approved request itself before the sweep does. */
export const unclaimedGraceMs = 5_000;

export async function sweepExpired(deps: SweepDeps): Promise<string[]> {
  const store = new ApprovalStore(deps.redis);
  const expired = await store.expireDue();
  for (const id of expired) {
    deps.logger.info('audit', { event: 'expired', approval: id });
    await refresh(deps, store, id, 'Expired: nobody approved in time. Nothing was changed.').catch((error) =>
      deps.logger.warn('approval message not updated', { approval: id, error: errorMessage(error) }),
    );
  }
  return expired;
}

/** Approved, never claimed, and no job that could still claim it: (re)queue it. */
export async function sweepUnclaimed(deps: SweepDeps, queue: Queue, now = Date.now()): Promise<string[]> {
  const store = new ApprovalStore(deps.redis);
  const queued: string[] = [];
  for (const id of await store.unclaimed(now - unclaimedGraceMs)) {
    const approval = await store.get(id);
    if (approval?.state !== 'approved') {
      if (!approval) await store.forget(id);
      continue;
    }
    const job = await queue.getJob(`exec__${id}`);
    const state = job ? await job.getState() : 'missing';
    if (state !== 'missing' && state !== 'completed' && state !== 'failed') continue;
    // A job that ended without claiming never wrote anything: running it again is safe.
    if (job && state !== 'missing') await job.remove();
    await enqueueExecution(queue, id);
    deps.logger.info('audit', { event: 'execution_requeued', approval: id, job: state });
    queued.push(id);
  }
  return queued;
}

/** Claimed, and its job is no longer running: record `failed` and say so in the thread. */
export async function sweepStuck(deps: SweepDeps, queue: Queue, now = Date.now()): Promise<string[]> {
  const store = new ApprovalStore(deps.redis);
  const failed: string[] = [];
  for (const id of await store.executing(now - unclaimedGraceMs)) {
    const approval = await store.get(id);
    if (approval?.state !== 'executing') {
      if (!approval) await store.forget(id);
      continue;
    }
    // A worker still renewing its lease is running it, whatever became of the job.
    if (await ExecutionLease.held(deps.redis, id)) continue;
    const job = await queue.getJob(`exec__${id}`);
    const state = job ? await job.getState() : 'missing';
    if (state !== 'missing' && state !== 'completed' && state !== 'failed') continue;
    const why =
      state === 'missing'
        ? 'its job is gone'
        : `its job ${state}${job?.failedReason ? ` (${job.failedReason})` : ''}`;
    const reason = `${why} before reporting; what it changed is unknown and it was not retried`;
    if (!(await store.finish(id, 'kproxy-sweep', 'failed', `interrupted: ${reason}`))) continue;
    deps.logger.info('audit', { event: 'execution_interrupted', approval: id, action: approval.action });
    failed.push(id);
    await deps.poster
      .post(approval.channel, {
        text: `:warning: \`${approval.action}\` was interrupted: ${escapeMrkdwn(reason)}. Check the cluster (and re-run the diagnosis) before asking again.`,
        threadTs: approval.threadTs,
      })
      .catch((error) => deps.logger.warn('slack post failed', { approval: id, error: errorMessage(error) }));
    await refresh(deps, store, id, escapeMrkdwn(`Interrupted: ${reason}`)).catch((error) =>
      deps.logger.warn('approval message not updated', { approval: id, error: errorMessage(error) }),
    );
  }
  return failed;
}
