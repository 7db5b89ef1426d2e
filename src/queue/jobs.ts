/** The diagnose queue: names, job data (validated when a worker takes it), keys in Redis. */
import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { ActionId } from '../approvals/actions.js';
import type { Target } from '../cluster/view.js';

export const diagnoseQueueName = 'kproxy-diagnose';

export const diagnoseJobSchema = z.strictObject({
  requestId: z.uuid(),
  cluster: z.string().min(1),
  target: z.strictObject({
    namespace: z.string().optional(),
    service: z.string().optional(),
    node: z.string().optional(),
    /** The failing client, `namespace/name` (a Pod, Deployment, StatefulSet or DaemonSet). */
    from: z
      .string()
      .regex(/^[^/]+\/[^/]+$/)
      .optional(),
    /** The Ingress or HTTPRoute clients go through, `Ingress/namespace/name` or `HTTPRoute/namespace/name`. */
    route: z
      .string()
      .regex(/^(Ingress|HTTPRoute)\/[^/]+\/[^/]+$/)
      .optional(),
  }),
  channel: z.string().min(1),
  /** The parent message of the thread (its `ts`). */
  threadTs: z.string().regex(/^\d+\.\d+$/),
  requestedBy: z.string().min(1),
  runningKey: z.string().min(1),
  /** The PagerDuty incident the thread belongs to (a note may be posted back). */
  pagerDutyIncidentId: z.string().optional(),
  /** A re-diagnosis after an approved action: the root cause it was meant to clear. */
  verifies: z.strictObject({ approvalId: z.string(), category: z.string() }).optional(),
});

export type DiagnoseJob = z.infer<typeof diagnoseJobSchema>;

/** The engine's target for a job (`from` is `namespace/name` in the job, a reference in the engine). */
export function jobTarget(target: DiagnoseJob['target']): Target {
  const [namespace, name] = target.from?.split('/') ?? [];
  return {
    namespace: target.namespace,
    service: target.service,
    node: target.node,
    from: namespace && name ? { namespace, name } : undefined,
    route: routeOf(target.route),
  };
}

function routeOf(route: string | undefined): Target['route'] {
  const [kind, namespace, name] = route?.split('/') ?? [];
  return (kind === 'Ingress' || kind === 'HTTPRoute') && namespace && name
    ? { kind, namespace, name }
    : undefined;
}

/** Enqueues a diagnosis under its request id (a read-only job: one retry is safe). */
export async function enqueueDiagnosis(queue: Queue, job: DiagnoseJob): Promise<string> {
  const jobId = `diag__${job.requestId}`;
  await queue.add('diagnose', job, {
    jobId,
    attempts: 2,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { age: 24 * 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  });
  return jobId;
}

/**
 * The start queue: in the split deployment the bot hands each acknowledged diagnose command
 * to the worker process, which posts the thread's parent and queues the diagnosis (or
 * joins the thread already diagnosing the target), so the bot's event loop only acks.
 */
export const startQueueName = 'kproxy-start';

export const startJobSchema = z.strictObject({
  /** Also the diagnosis' request id: a start that is run again resumes its own claim. */
  requestId: z.uuid(),
  cluster: z.string().min(1),
  target: diagnoseJobSchema.shape.target,
  channel: z.string().min(1),
  user: z.string().min(1),
  /** Slack's response_url of the command: where its user hears if the start fails before a thread exists. */
  responseUrl: z.url().optional(),
  /** When the bot queued it (ms since the epoch): a mover's leftovers are recovered after a grace time. */
  queuedAt: z.number().int().nonnegative().optional(),
});

export type StartJob = z.infer<typeof startJobSchema>;

/**
 * The durable handoff of the starts (issue 16): the bot's admission script appends each
 * admitted command's start (a StartJob as JSON) to `queued` in the same call that admits
 * it, before the ack; a mover on the worker side (start-mover.ts) takes it into `moving`
 * (BLMOVE), adds it to the start queue and removes it from `moving`.
 */
export const startListKeys = {
  queued: 'kproxy:starts',
  moving: 'kproxy:starts:moving',
} as const;

/**
 * Queues a start under its request id (adding it again is a no-op). Not retried by BullMQ:
 * a failed start is told to the user instead (the parent post is not repeated blindly).
 */
export async function enqueueStart(queue: Queue, job: StartJob): Promise<void> {
  await queue.add('start', job, {
    jobId: `start__${job.requestId}`,
    attempts: 1,
    removeOnComplete: { age: 3600 },
    removeOnFail: { age: 24 * 3600 },
  });
}

export const keys = {
  /** The diagnosis running for a cluster and target: `{jobId, channel, threadTs}`. */
  running: (cluster: string, target: DiagnoseJob['target']) =>
    `kproxy:running:${cluster}:${target.namespace ?? '-'}/${target.service ?? '-'}:${target.node ?? '-'}${target.from ? `:from:${target.from}` : ''}${target.route ? `:route:${target.route}` : ''}`,
  /** The report message(s) already posted for a job: retried jobs edit them instead. */
  report: (jobId: string) => `kproxy:report:${jobId}`,
  /** A slash-command delivery already handled (Slack retries carry the same trigger id). */
  delivery: (id: string) => `kproxy:delivery:${id}`,
  /**
   * A start that ran to its end (started, joined, or its failure told): one re-added after
   * BullMQ removed its finished job (a mover recovering its leftovers late) is not run again.
   */
  startDone: (requestId: string) => `kproxy:start-done:${requestId}`,
  /** Opaque action reference behind a report button. */
  actionRef: (ref: string) => `kproxy:action:${ref}`,
  /** Per-channel token bucket of chat.postMessage (a hash; about one per second per channel). */
  pace: (channel: string) => `kproxy:pace-bucket:${channel}`,
} as const;

/** What a report button's opaque reference stands for (kept in Redis, never in the button). */
export interface ActionRef {
  readonly jobId: string;
  readonly cluster: string;
  readonly action: ActionId;
  readonly safety: 'YELLOW' | 'RED';
  readonly node: string | null;
  readonly target: DiagnoseJob['target'];
  /** The root cause the action is meant to clear (post-fix verification compares). */
  readonly category: string;
  /** A precondition the diagnosis found unmet: the action is refused with this reason. */
  readonly blockedBy?: string | null;
  /** Why the diagnosis suggests it: the root cause and the evidence quoted for it. */
  readonly evidence?: readonly string[];
}

export const executeQueueName = 'kproxy-execute';

/** How long a report's buttons work: its diagnosis is stale after that (run it again). */
export const reportButtonTtlSeconds = 3600;

export interface RunningDiagnosis {
  readonly jobId: string;
  readonly channel: string;
  readonly threadTs: string;
}

export function targetLabel(cluster: string, target: DiagnoseJob['target']): string {
  const what = target.route
    ? target.route.replace('/', ' ')
    : target.service
      ? `${target.namespace}/${target.service}`
      : 'kube-proxy health';
  return `${what}${target.from ? ` from ${target.from}` : ''}${target.node ? ` (node ${target.node})` : ''} on ${cluster}`;
}

/**
 * Queues the execution of an approved request under its approval id: adding it twice is a
 * no-op (BullMQ keeps one job per id), so the bot and the outbox sweep may both try.
 * Never retried by BullMQ: a write that failed half-way is reported, not repeated.
 */
export async function enqueueExecution(queue: Queue, approvalId: string): Promise<void> {
  await queue.add(
    'execute',
    { approvalId },
    {
      jobId: `exec__${approvalId}`,
      attempts: 1,
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  );
}
