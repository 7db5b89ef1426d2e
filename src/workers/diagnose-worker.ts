/**
 * The diagnose worker: takes a `diagnose` job, runs the engine against the configured
 * cluster, shows progress on the thread's parent message, and posts the report in the
 * thread with message metadata other tools can read. Idempotent: a retried or
 * recovered job edits the report it already posted (found in Redis, or by the job id
 * in the thread's message metadata) and never posts a second one.
 */
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { type ConnectionOptions, type Job, UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { acksFirst } from '../bot/ack-first.js';
import { EksAccess } from '../cluster/eks/eks-access.js';
import { LiveSource } from '../cluster/live/live-source.js';
import { debugImageFrom } from '../cluster/live/node-captures.js';
import type { ClusterSource } from '../cluster/source.js';
import type { ClusterConfig, Config } from '../config/config.js';
import type { Diagnosis } from '../engine/diagnosis.js';
import { diagnoseSource } from '../engine/engine.js';
import { describeError, errorMessage, KproxyError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  type ActionRef,
  type DiagnoseJob,
  diagnoseJobSchema,
  diagnoseQueueName,
  jobTarget,
  keys,
  reportButtonTtlSeconds,
  targetLabel,
} from '../queue/jobs.js';
import { renderBlocks, splitForSlack } from '../report/blocks.js';
import { doneLine, failedLine, progressLine, updateParent } from '../slack/messages.js';
import type { SlackPoster } from '../slack/poster.js';
import { DiagnosisThreads } from './diagnosis-threads.js';
import { defaultPostFixWait, type PostFixWait, settledDiagnosis, verificationText } from './post-fix.js';

export interface DiagnoseWorkerDeps {
  readonly config: Config;
  /** For kproxy's own keys (reports, running diagnoses, action references). */
  readonly redis: Redis;
  /** BullMQ's connection (a blocking one is derived from it). */
  readonly connection: ConnectionOptions;
  readonly poster: SlackPoster;
  readonly logger: Logger;
  /**
   * How a cluster becomes a source, read on the worker's own event loop. The default reads
   * it live (kubeconfig or EKS) in diagnosis threads (diagnosis-threads.ts), off the loop.
   */
  readonly sourceFor?: (cluster: ClusterConfig, signal?: AbortSignal) => Promise<ClusterSource>;
  readonly workerOptions?: Partial<WorkerOptions>;
  readonly onJobDone?: (outcome: 'completed' | 'failed', seconds: number) => void;
  /** After the report is in the thread (PagerDuty notes). */
  readonly afterReport?: (job: DiagnoseJob, diagnosis: Diagnosis) => Promise<void>;
  /** Post-fix checks: how long to wait for the cluster to settle. */
  readonly postFixWait?: PostFixWait;
}

/** Minimum time between two progress edits of the parent message (chat.update is Tier 3). */
const progressIntervalMs = 2000;
const actionRefTtlSeconds = reportButtonTtlSeconds;

/** One EksAccess per cluster, so DescribeCluster and the token are reused across jobs. */
const eksAccess = new Map<string, EksAccess>();

export function eksAccessFor(name: string, eks: NonNullable<ClusterConfig['eks']>): EksAccess {
  let access = eksAccess.get(name);
  if (!access) {
    access = new EksAccess(eks);
    eksAccess.set(name, access);
  }
  return access;
}

/** `signal` cancels the source's API requests (the job's deadline). */
export async function defaultSourceFor(cluster: ClusterConfig, signal?: AbortSignal): Promise<ClusterSource> {
  const common = {
    clusterName: cluster.name,
    nodeCaptures: cluster.nodeCaptures,
    proxyVia: cluster.proxyVia,
    ...(cluster.debugImageRegistry
      ? { debugPod: { image: debugImageFrom(cluster.debugImageRegistry) } }
      : {}),
    probe: {
      mode: cluster.probe,
      namespace: cluster.probeNamespace,
      ...(cluster.debugImageRegistry ? { image: debugImageFrom(cluster.debugImageRegistry) } : {}),
    },
    ...(signal ? { http: { signal } } : {}),
  };
  if (cluster.kubeconfig)
    return new LiveSource({
      ...common,
      kubeconfigPath: cluster.kubeconfig.path,
      context: cluster.kubeconfig.context,
    });
  if (cluster.inCluster) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromCluster();
    return new LiveSource({ ...common, kubeConfig });
  }
  if (!cluster.eks) throw new Error(`cluster ${cluster.name} has neither kubeconfig, eks nor inCluster`);
  const access = eksAccessFor(cluster.name, cluster.eks);
  // The token rotates: each request takes a current one (an action can outlast a token's 15 minutes).
  return new LiveSource({
    ...common,
    kubeConfig: await access.kubeConfig(cluster.name),
    provider: access,
    http: { ...(signal ? { signal } : {}), bearerToken: () => access.token() },
  });
}

export function startDiagnoseWorker(deps: DiagnoseWorkerDeps): Worker {
  const threads = deps.sourceFor ? undefined : new DiagnosisThreads(deps.config.worker.concurrency);
  // A request naming what does not exist (a node) fails the same way every time: no retry.
  const run = (job: Job, signal?: AbortSignal) =>
    processDiagnose(deps, job, signal, threads).catch((error: unknown) => {
      if (error instanceof KproxyError && error.code === 'usage') throw new UnrecoverableError(error.message);
      throw error;
    });
  const worker = new Worker(diagnoseQueueName, (job, _token, signal) => run(job, signal), {
    connection: deps.connection,
    concurrency: deps.config.worker.concurrency,
    ...deps.workerOptions,
  });
  worker.on('failed', (job, error) => {
    if (!job) return;
    const unrecoverable = error instanceof UnrecoverableError;
    const final = unrecoverable || job.attemptsMade >= (job.opts.attempts ?? 1);
    deps.logger.warn('diagnose job failed', {
      jobId: job.id,
      attempt: job.attemptsMade,
      final,
      error: errorMessage(error),
    });
    if (final)
      reportFailure(deps, job, unrecoverable ? error.message : describeError(error)).catch((failure) =>
        deps.logger.error('could not record a failed diagnosis', {
          jobId: job.id,
          error: errorMessage(failure),
        }),
      );
  });
  worker.on('completed', (job) => deps.onJobDone?.('completed', (Date.now() - job.timestamp) / 1000));
  worker.on('error', (error) => deps.logger.error('worker error', { error: errorMessage(error) }));
  worker.on('closed', () => void threads?.close());
  return worker;
}

async function processDiagnose(
  deps: DiagnoseWorkerDeps,
  job: Job,
  signal: AbortSignal | undefined,
  threads: DiagnosisThreads | undefined,
): Promise<string> {
  const data = diagnoseJobSchema.parse(job.data);
  const jobId = job.id as string;
  const { poster, redis, config } = deps;
  const cluster = config.clusters.find((c) => c.name === data.cluster);
  if (!cluster) throw new Error(`cluster ${data.cluster} is no longer configured`);

  if (await alreadyReported(deps, data, jobId, job.attemptsStarted > 1 || job.attemptsMade > 0))
    return 'already reported';

  let lastUpdate = 0;
  let lastPhase = '';
  const onProgress = ({ phase, done, total }: { phase: string; done: number; total: number }) => {
    const now = Date.now();
    if (phase === lastPhase || now - lastUpdate < progressIntervalMs) return;
    lastUpdate = now;
    lastPhase = phase;
    // The job may be gone (removed, or Redis blipped): progress is cosmetic, never fatal.
    job.updateProgress({ phase, done, total }).catch((error) => {
      deps.logger.warn('job progress not recorded', { jobId, error: errorMessage(error) });
    });
    updateParent(redis, poster, data.channel, data.threadTs, 'diag', progressLine(done, total, phase)).catch(
      (error) => {
        deps.logger.warn('progress update failed', { jobId, error: errorMessage(error) });
      },
    );
  };

  // The deadline (or BullMQ cancelling the job) aborts the source's requests too, so the
  // work stops instead of running on behind a failed job.
  const seconds = config.worker.timeoutSeconds;
  const deadline = AbortSignal.any([AbortSignal.timeout(seconds * 1000), ...(signal ? [signal] : [])]);
  const request = { target: jobTarget(data.target), clusterWide: !data.target.service && !data.target.route };
  const source = threads ? undefined : await (deps.sourceFor ?? defaultSourceFor)(cluster, deadline);
  const run = () =>
    untilAborted(
      source
        ? diagnoseSource(source, request, { onProgress })
        : (threads as DiagnosisThreads).run({ cluster, ...request, onProgress }, deadline),
      deadline,
      seconds,
    );
  // After an approved action: wait (bounded, within the job's deadline) for the cluster to
  // settle before judging the fix.
  const diagnosis = data.verifies
    ? await settledDiagnosis(run, deps.postFixWait ?? defaultPostFixWait, deadline)
    : await run();
  // In `npm start` the bot shares this event loop: commands waiting for their ack go first.
  await acksFirst.turn();
  // A post-fix check answers in one message (and the next actions, if the fault remains),
  // not with a second full report.
  await postReport(
    deps,
    data,
    jobId,
    diagnosis,
    data.verifies ? verificationText(data.verifies.category, diagnosis) : undefined,
  );
  await updateParent(redis, poster, data.channel, data.threadTs, 'diag', doneLine(diagnosis));
  await deps.afterReport?.(data, diagnosis);
  await releaseRunning(redis, data.runningKey, jobId);
  return diagnosis.rootCause.category;
}

/** A retried job whose report is already in the thread only makes sure the parent says so. */
async function alreadyReported(
  deps: DiagnoseWorkerDeps,
  data: DiagnoseJob,
  jobId: string,
  rerun: boolean,
): Promise<boolean> {
  const known = await deps.redis.get(keys.report(jobId));
  if (known) return true;
  // Only a job that ran before (a retry, or a stalled job taken over) can have posted without recording it.
  if (!rerun) return false;
  const found = await deps.poster.findReport(data.channel, data.threadTs, jobId).catch(() => []);
  if (found.length === 0) return false;
  await deps.redis.set(keys.report(jobId), JSON.stringify(found), 'EX', 7 * 24 * 3600);
  return true;
}

async function postReport(
  deps: DiagnoseWorkerDeps,
  data: DiagnoseJob,
  jobId: string,
  diagnosis: Diagnosis,
  verification?: string,
): Promise<void> {
  const eks = Boolean(deps.config.clusters.find((c) => c.name === data.cluster)?.eks);
  const d = withClusterPreconditions(diagnosis, eks);
  // Cleared, or not decidable: either way there is no next action to offer.
  const cleared = d.rootCause.category === 'none' || d.verdict === 'inconclusive';
  const refs = verification && cleared ? [] : await storeActionRefs(deps.redis, jobId, data, d);
  const rendered = renderBlocks(d, { actionRefs: refs, compact: verification !== undefined });
  const text = verification ?? rendered.text;
  const blocks = verification
    ? [{ type: 'section', text: { type: 'mrkdwn', text: verification } }, ...(cleared ? [] : rendered.blocks)]
    : rendered.blocks;
  const metadata = {
    event_type: 'kproxy_diagnosis',
    event_payload: {
      job_id: jobId,
      cluster: data.cluster,
      target: `${data.target.namespace ?? ''}/${data.target.service ?? ''}${data.target.node ? `@${data.target.node}` : ''}`,
      root_cause: d.rootCause.category,
      severity: d.severity,
      verdict: d.verdict,
    },
  };
  const posted: string[] = [];
  for (const [i, part] of splitForSlack(blocks).entries()) {
    const message = await deps.poster.post(data.channel, {
      text: i === 0 ? text : `${text} (continued)`,
      blocks: part,
      threadTs: data.threadTs,
      metadata: { ...metadata, event_payload: { ...metadata.event_payload, part: i + 1 } },
    });
    posted.push(message.ts);
    await deps.redis.set(keys.report(jobId), JSON.stringify(posted), 'EX', 7 * 24 * 3600);
  }
}

/**
 * What the approval message quotes to say why: the root cause, then the evidence of the
 * findings that point at it (the action's node first).
 */
function evidenceFor(d: Diagnosis, node: string | undefined): string[] {
  const lines = d.findings
    .filter((f) => f.status === 'fail' && f.suspect?.category === d.rootCause.category)
    .flatMap((f) => f.evidence);
  const onNode = node ? lines.filter((l) => l.includes(node)) : [];
  const rest = lines.filter((l) => !onNode.includes(l));
  return [d.rootCause.detail, ...[...onNode, ...rest].slice(0, 3)].map((l) => l.slice(0, 300));
}

const notEksCluster =
  'this cluster is not configured as an EKS cluster, so there is no add-on to update: set the kube-proxy DaemonSet image to the control plane minor version by hand';

/** What the engine cannot know: the EKS add-on action needs a cluster configured as EKS. */
function withClusterPreconditions(d: Diagnosis, eks: boolean): Diagnosis {
  if (eks) return d;
  const actions = d.mitigation.actions.map((a) =>
    a.id === 'update-kube-proxy-addon' && !a.blockedBy ? { ...a, blockedBy: notEksCluster } : a,
  );
  return { ...d, mitigation: { ...d.mitigation, actions } };
}

/** Buttons carry only an opaque reference; what it stands for stays in Redis. */
async function storeActionRefs(
  redis: Redis,
  jobId: string,
  data: DiagnoseJob,
  d: Diagnosis,
): Promise<string[]> {
  const cluster = data.cluster;
  const refs: string[] = [];
  for (const action of d.mitigation.actions) {
    // The action id leads the opaque reference: the button says it in words, its value by id.
    const ref = `${action.id}.${randomUUID()}`;
    await redis.set(
      keys.actionRef(ref),
      JSON.stringify({
        jobId,
        cluster,
        action: action.id,
        safety: action.safety as ActionRef['safety'],
        node: action.node ?? null,
        target: data.target,
        category: d.rootCause.category,
        blockedBy: action.blockedBy ?? null,
        evidence: evidenceFor(d, action.node),
      } satisfies ActionRef),
      'EX',
      actionRefTtlSeconds,
    );
    refs.push(ref);
  }
  return refs;
}

async function reportFailure(deps: DiagnoseWorkerDeps, job: Job, reason: string): Promise<void> {
  const parsed = diagnoseJobSchema.safeParse(job.data);
  if (!parsed.success) return;
  const data = parsed.data;
  const label = targetLabel(data.cluster, data.target);
  try {
    await deps.poster.post(data.channel, {
      text: `:x: The diagnosis of ${label} failed: ${reason}`,
      threadTs: data.threadTs,
    });
    await updateParent(deps.redis, deps.poster, data.channel, data.threadTs, 'diag', failedLine(reason));
  } catch (error) {
    deps.logger.error('could not report a failed diagnosis', { jobId: job.id, error: errorMessage(error) });
  } finally {
    await releaseRunning(deps.redis, data.runningKey, job.id as string);
    deps.onJobDone?.('failed', (Date.now() - job.timestamp) / 1000);
  }
}

const releaseScript =
  "if redis.call('GET', KEYS[1]) and cjson.decode(redis.call('GET', KEYS[1])).jobId == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/** Frees the "running" slot of the target, only if it is still this job's. */
export async function releaseRunning(redis: Redis, key: string, jobId: string): Promise<void> {
  await redis.eval(releaseScript, 1, key, jobId);
}

/** The work's result, or a rejection as soon as `signal` aborts (saying why). */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal, seconds: number): Promise<T> {
  const reason = () =>
    new Error(
      (signal.reason as Error | undefined)?.name === 'TimeoutError'
        ? `took longer than ${seconds}s`
        : 'cancelled',
    );
  if (signal.aborted) throw reason();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
