/**
 * The execute worker: for an approval, `plan` reads the cluster and shows the exact
 * writes on the approval message (the dry run); `execute` claims the approved request
 * exactly once, plans again (re-validating the target), performs the writes, records the
 * outcome in the audit stream, reports in the thread, and re-runs the diagnosis to tell
 * whether the root cause cleared. A failed write is reported, never retried blindly.
 */
import { randomUUID } from 'node:crypto';
import { type ConnectionOptions, type Job, Queue, Worker, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { actionCatalog } from '../approvals/actions.js';
import { type ExecutionContext, executePlan, planAction } from '../approvals/executors.js';
import { policyFor } from '../approvals/policy.js';
import { type Approval, ApprovalStore, confirmationTarget } from '../approvals/store.js';
import { approverMentions } from '../bot/approval-messages.js';
import { approvalMessage, refresh } from '../bot/approval-thread.js';
import { LiveSource } from '../cluster/live/live-source.js';
import type { ClusterConfig, Config } from '../config/config.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { type ActionRef, enqueueDiagnosis, executeQueueName } from '../queue/jobs.js';
import { escapeMrkdwn } from '../report/blocks.js';
import type { SlackPoster } from '../slack/poster.js';
import { defaultSourceFor, eksAccessFor } from './diagnose-worker.js';
import { sweepExpired, sweepStuck, sweepUnclaimed } from './execute-sweep.js';
import { ExecutionLease } from './execution-lease.js';

export interface ExecuteWorkerDeps {
  readonly config: Config;
  readonly redis: Redis;
  readonly connection: ConnectionOptions;
  readonly poster: SlackPoster;
  readonly logger: Logger;
  readonly diagnoseQueue: Queue;
  readonly workerOptions?: Partial<WorkerOptions>;
  /** How often pending requests are checked for expiry. @defaultValue 15_000 */
  readonly sweepIntervalMs?: number;
}

export function startExecuteWorker(deps: ExecuteWorkerDeps): Worker {
  const workerId = `worker-${randomUUID().slice(0, 8)}`;
  const worker = new Worker(executeQueueName, (job) => process(deps, workerId, job), {
    connection: deps.connection,
    concurrency: 2,
    ...deps.workerOptions,
  });
  worker.on('failed', (job, error) =>
    deps.logger.error('execute job failed', { jobId: job?.id, error: errorMessage(error) }),
  );
  worker.on('error', (error) => deps.logger.error('execute worker error', { error: errorMessage(error) }));
  // Expired requests, approved requests without a job, and executions whose job died.
  const queue = new Queue(executeQueueName, {
    connection: deps.redis,
    ...(deps.workerOptions?.prefix ? { prefix: deps.workerOptions.prefix } : {}),
  });
  queue.on('error', (error) =>
    deps.logger.warn('queue error (execute sweep)', { error: errorMessage(error) }),
  );
  let sweeping = false;
  const sweep = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    void (async () => {
      await sweepExpired(deps);
      await sweepUnclaimed(deps, queue);
      await sweepStuck(deps, queue);
    })()
      .catch((error) => deps.logger.warn('approval sweep failed', { error: errorMessage(error) }))
      .finally(() => {
        sweeping = false;
      });
  }, deps.sweepIntervalMs ?? 15_000);
  worker.on('closing', () => {
    clearInterval(sweep);
    void queue.close().catch(() => undefined);
  });
  return worker;
}

async function contextFor(cluster: ClusterConfig): Promise<ExecutionContext> {
  const source = await defaultSourceFor(cluster);
  if (!(source instanceof LiveSource)) throw new Error(`cluster ${cluster.name} is not a live cluster`);
  return { http: source.http, eks: cluster.eks ? eksAccessFor(cluster.name, cluster.eks) : undefined };
}

/**
 * Defence in depth: the rating comes from the catalog, never from the stored request. A RED
 * action runs only with the RED flow's traces: the requester's reason and the approver's
 * typed confirmation of the target, both enforced by the store.
 */
function redRefusal(approval: Approval): string | undefined {
  if (actionCatalog[approval.action]?.safety !== 'RED') return undefined;
  if (approval.safety !== 'RED' || !approval.reason?.trim())
    return `${approval.action} is RED and was not requested through the RED flow (no written reason)`;
  if (approval.confirmed !== confirmationTarget(approval))
    return `${approval.action} is RED and its approval did not confirm the target by name`;
  return undefined;
}

async function process(deps: ExecuteWorkerDeps, workerId: string, job: Job): Promise<string> {
  const id = String((job.data as { approvalId?: string }).approvalId ?? '');
  const store = new ApprovalStore(deps.redis);
  const approval = await store.get(id);
  if (!approval) return 'unknown approval';
  if (job.name === 'plan') return plan(deps, store, approval);

  const thread = { channel: approval.channel, threadTs: approval.threadTs };
  if (!(await store.claimExecution(id, workerId))) {
    // BullMQ hands a job to a second worker only when the first stopped renewing its lock
    // (it died). Whatever it wrote is unknown: say so, and never run the action again.
    if (approval.state === 'executing' && job.attemptsStarted > 1) {
      // BullMQ's lock lapsed, but the worker running it may be alive: its lease says so.
      if (await ExecutionLease.held(deps.redis, id)) return 'still running elsewhere';
      const reason =
        'the worker running it stopped before reporting; what it changed is unknown and it was not retried';
      if (await store.finish(id, workerId, 'failed', `interrupted: ${reason}`)) {
        deps.logger.info('audit', { event: 'execution_interrupted', approval: id, action: approval.action });
        await say(
          deps,
          thread,
          `:warning: \`${approval.action}\` was interrupted: ${reason}. Check the cluster (and re-run the diagnosis) before asking again.`,
        );
        await bestEffort(deps, refresh(deps, store, id, `Interrupted: ${reason}`));
      }
      return 'interrupted';
    }
    return 'already claimed';
  }
  // From here on every path ends in `done` or `failed`, said in the thread (never silent).
  const run = { writing: false };
  const lease = await ExecutionLease.take(deps.redis, id, workerId);
  try {
    return await runClaimed(deps, store, workerId, approval, run, lease);
  } catch (error) {
    const reason = errorMessage(error);
    deps.logger.error('execution failed', { approval: id, error: reason });
    const detail = run.writing ? `failed while writing: ${reason}` : `not executed: ${reason}`;
    if (await store.finish(id, workerId, 'failed', detail).catch(() => false)) {
      await say(
        deps,
        thread,
        run.writing
          ? `:x: \`${approval.action}\` failed: ${escapeMrkdwn(reason)}. Not retried: check the cluster before trying again.`
          : `:x: \`${approval.action}\` was not executed: ${escapeMrkdwn(reason)}`,
      );
      await bestEffort(deps, refresh(deps, store, id, escapeMrkdwn(`Failed: ${detail}`)));
    }
    return 'failed';
  } finally {
    await lease.release();
  }
}

/**
 * The dry run, shown on the approval message. A request that cannot run now closes itself;
 * one that can asks its approvers in the thread.
 */
async function plan(deps: ExecuteWorkerDeps, store: ApprovalStore, approval: Approval): Promise<string> {
  const message = await approvalMessage(deps.redis, approval.id);
  const cluster = deps.config.clusters.find((c) => c.name === approval.cluster);
  if (!message || !cluster) return 'nothing to plan';
  const planned = await planAction(await contextFor(cluster), targetOf(approval, message.ref)).catch(
    (error: unknown) => ({
      ok: false as const,
      reason: `the cluster could not be read: ${errorMessage(error)}`,
    }),
  );
  if (!planned.ok) {
    const reason = `cannot run now: ${planned.reason}`;
    if (await store.closeUnrunnable(approval.id, reason))
      await refresh(
        deps,
        store,
        approval.id,
        `Closed: ${escapeMrkdwn(reason)}. Nothing was changed.`,
        reason,
      );
    return 'cannot run';
  }
  const steps = [planned.value.summary, ...planned.value.writes.map((w) => `• ${w.describe}`)].join('\n');
  await refresh(deps, store, approval.id, undefined, steps);
  const policy = policyFor(deps.config, approval.cluster, approval.safety);
  await say(
    deps,
    { channel: approval.channel, threadTs: approval.threadTs },
    `${approverMentions(policy)}: \`${approval.action}\` on ${escapeMrkdwn(approval.cluster)} needs ${approval.required} approval(s); the dry run is on the approval message.`,
  );
  return 'planned';
}

function targetOf(approval: Approval, ref: ActionRef | undefined) {
  return {
    action: approval.action,
    node: approval.node,
    blockedBy: ref?.blockedBy ?? undefined,
    acceptEmptyDirDataLoss: approval.acceptEmptyDirDataLoss === true,
  };
}

/** Slack is told best effort: the store and the audit are the record. */
async function say(
  deps: Pick<ExecuteWorkerDeps, 'poster' | 'logger'>,
  thread: { channel: string; threadTs: string },
  text: string,
): Promise<void> {
  await bestEffort(deps, deps.poster.post(thread.channel, { text, threadTs: thread.threadTs }));
}

async function bestEffort(deps: Pick<ExecuteWorkerDeps, 'logger'>, work: Promise<unknown>): Promise<void> {
  await work.catch((error) => deps.logger.warn('slack update failed', { error: errorMessage(error) }));
}

/** A claimed execution: re-validate, write, record, report, verify. Throws only before `done`/`failed`. */
async function runClaimed(
  deps: ExecuteWorkerDeps,
  store: ApprovalStore,
  workerId: string,
  approval: Approval,
  run: { writing: boolean },
  lease: ExecutionLease,
): Promise<string> {
  const id = approval.id;
  const thread = { channel: approval.channel, threadTs: approval.threadTs };
  const message = await approvalMessage(deps.redis, id);
  const cluster = deps.config.clusters.find((c) => c.name === approval.cluster);
  /** A claimed request that will not run: recorded as failed, said in the thread and on its message. */
  const notExecuted = async (reason: string, inSlack = escapeMrkdwn(reason)) => {
    await store.finish(id, workerId, 'failed', `not executed: ${reason}`);
    await say(deps, thread, `:x: \`${approval.action}\` was not executed: ${inSlack}`);
    await bestEffort(deps, refresh(deps, store, id, `Not executed: ${inSlack}`));
  };
  if (!cluster) {
    await notExecuted(`cluster ${approval.cluster} is no longer configured`);
    return 'cluster no longer configured';
  }
  const red = redRefusal(approval);
  if (red) {
    await notExecuted(red);
    return 'refused: RED';
  }
  const ctx = lease.guard(await contextFor(cluster));
  const planned = await planAction(ctx, targetOf(approval, message?.ref));
  if (!planned.ok) {
    await notExecuted(planned.reason);
    return 'refused at re-validation';
  }
  // With impersonation configured, writes run as the approving human, or not at all.
  const mapping = deps.config.impersonation;
  const as = mapping && approval.approvedBy ? mapping[approval.approvedBy] : undefined;
  if (mapping && !as) {
    const who = approval.approvedBy ?? '?';
    await notExecuted(
      `no Kubernetes identity is mapped for ${who} (impersonation)`,
      `no Kubernetes identity is mapped for <@${escapeMrkdwn(who)}> (impersonation)`,
    );
    return 'no identity';
  }
  run.writing = true;
  const result = await executePlan(ctx, planned.value, as, { idempotencyKey: id });
  const detail = result.ok
    ? result.done.join('; ')
    : `${result.error}${result.done.length ? ` (done before: ${result.done.join('; ')})` : ''}`;
  if (!(await store.finish(id, workerId, result.ok ? 'done' : 'failed', detail))) {
    // Another worker already recorded this execution as ended (this one lost its lease):
    // what this one did still goes to the audit and the thread.
    await store.appendLate(id, workerId, `${result.ok ? 'done' : 'failed'}: ${detail}`);
    deps.logger.info('audit', { event: 'late_result', approval: id, action: approval.action, detail });
    await say(
      deps,
      thread,
      `:warning: Late result of \`${approval.action}\` (recorded in the audit): ${escapeMrkdwn(detail)}`,
    );
    return 'late result';
  }
  deps.logger.info('audit', {
    event: result.ok ? 'executed' : 'execution_failed',
    approval: id,
    action: approval.action,
    cluster: approval.cluster,
    detail,
  });
  const text = result.ok
    ? `:white_check_mark: Executed \`${approval.action}\` (approved by ${approval.approvers.map((u) => `<@${u}>`).join(', ')}):\n${result.done.map((d) => `• ${escapeMrkdwn(d)}`).join('\n')}\nRe-running the diagnosis to check the fix…`
    : `:x: \`${approval.action}\` failed: ${escapeMrkdwn(detail)}. Not retried: check the cluster before trying again.`;
  await say(deps, thread, text);
  await bestEffort(
    deps,
    refresh(deps, store, id, escapeMrkdwn(result.ok ? `Done: ${detail}` : `Failed: ${detail}`)),
  );
  if (result.ok && message) {
    const requestId = randomUUID();
    await enqueueDiagnosis(deps.diagnoseQueue, {
      requestId,
      cluster: approval.cluster,
      target: message.ref.target,
      channel: thread.channel,
      threadTs: thread.threadTs,
      requestedBy: approval.requester,
      runningKey: `kproxy:verify:${requestId}`,
      verifies: { approvalId: id, category: message.ref.category },
    });
  }
  return result.ok ? 'done' : 'failed';
}
