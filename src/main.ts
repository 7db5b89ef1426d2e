/**
 * Process entry points: `bot` (Slack receiver + HTTP routes), `worker` (diagnose jobs),
 * or `all` for small setups (`npm start`). Configuration is read once; SIGTERM finishes
 * running jobs (or hands them back to the queue after a grace period) and closes
 * connections in order, within a bound whether Redis answers or not.
 */
import { Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createBot, listenBot } from './bot/app.js';
import { boltLogger } from './bot/bolt-logger.js';
import { botReadiness } from './bot/readiness.js';
import { PendingStarts } from './bot/start-diagnosis.js';
import { type Config, type Env, loadConfig, parseEnv } from './config/config.js';
import { describeError, errorMessage } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { logRepeatsOnce } from './log-repeats.js';
import { Metrics, metricHelp } from './metrics.js';
import { pagerDutyQueueName, pagerDutyStatusQueueName } from './pagerduty/payload.js';
import { PagerDutyRest } from './pagerduty/rest.js';
import { pagerDutyWebhookRoute } from './pagerduty/webhook.js';
import { guardProcess, stopOnSignals } from './process-guards.js';
import { diagnoseQueueName, executeQueueName, startListKeys, startQueueName } from './queue/jobs.js';
import { RedisConnections, withinBound } from './redis-connections.js';
import { SlackPoster } from './slack/poster.js';
import { startDiagnoseWorker } from './workers/diagnose-worker.js';
import { startExecuteWorker } from './workers/execute-worker.js';
import { startHealthServer, startWorkerHealth } from './workers/health-server.js';
import { notePagerDuty, startPagerDutyWorkers } from './workers/pagerduty-worker.js';
import { type StartMover, startStartMover } from './workers/start-mover.js';
import { startStartWorker } from './workers/start-worker.js';

export type Mode = 'bot' | 'worker' | 'all';

/** Running jobs get this long to finish on shutdown before they are handed back. */
const shutdownGraceMs = 25_000;
/** Each other shutdown step (HTTP server, queues, connections) gets this long. */
const shutdownStepMs = 5_000;
/** SIGTERM ends the process within this, whatever happens (Kubernetes' default is 30 s). */
export const shutdownBoundMs = shutdownGraceMs + 3 * shutdownStepMs;
const startupReadyMs = 5000;
/** How long shutdown waits for acknowledged commands to be queued (`npm start`). */
const pendingCommandsMs = 10_000;

/**
 * The bot's own connection: fails fast (no offline queue, 1 s per command) so a Redis
 * outage cannot delay the ack past Slack's 3 seconds. Not auto-pipelined: ioredis'
 * auto-pipelining can throw outside any caller when a command of a batch fails
 * (redis/ioredis#1931: `results[i] is not iterable`), and a bot that timed out a command
 * under load must answer, not exit.
 */
const botRedisOptions = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  commandTimeout: 1000,
} as const;

export interface Running {
  readonly port: number | undefined;
  /** Where /healthz, /readyz and /metrics are served (the bot: its own listener). */
  readonly healthPort: number | undefined;
  stop(): Promise<void>;
}

interface Shared {
  readonly env: Env;
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly connections: RedisConnections;
  readonly redis: Redis;
  readonly poster: SlackPoster;
  /** Shutdown steps in the order they run. */
  readonly closers: { name: string; close: () => Promise<unknown>; boundMs?: number }[];
  /** The bot's probe listener, once started. */
  healthPort?: number;
}

function redisReady(redis: Redis): Promise<void> {
  return redis.status === 'ready'
    ? Promise.resolve()
    : new Promise((resolve) => redis.once('ready', () => resolve()));
}

export async function start(mode: Mode, processEnv: NodeJS.ProcessEnv = process.env): Promise<Running> {
  const env = parseEnv(processEnv, mode === 'worker' ? 'worker' : 'bot');
  const config = await loadConfig(env.KPROXY_CONFIG);
  const logger = logRepeatsOnce(createLogger(mode));
  const metrics = new Metrics(metricHelp);
  const connections = new RedisConnections(env.REDIS_URL, logger);
  const redis = connections.open('shared', { maxRetriesPerRequest: 3 });
  const poster = new SlackPoster(redis, {
    token: env.SLACK_BOT_TOKEN,
    slackApiUrl: env.SLACK_API_URL,
    paceMs: env.KPROXY_SLACK_PACE_MS,
    // The poster's Web API client logs through the JSON logger too.
    logger: boltLogger(logger),
    onRetry: (method, reason) => {
      metrics.inc('kproxy_slack_retries_total', { method: method.split('/').pop() ?? method });
      logger.warn('slack call retried', { method, reason });
    },
  });
  const shared: Shared = { env, config, logger, metrics, connections, redis, poster, closers: [] };
  let port: number | undefined;
  if (mode !== 'bot') port = await startWorkers(shared, mode);
  if (mode !== 'worker') port = await startBotSide(shared, mode);
  logger.info('kproxy started', { mode, clusters: config.clusters.map((c) => c.name) });
  return { port, healthPort: shared.healthPort ?? port, stop: () => stopAll(shared) };
}

async function stopAll({ closers, connections, logger }: Shared): Promise<void> {
  for (const { name, close, boundMs } of closers) {
    const outcome = await withinBound(
      close().catch((error) =>
        logger.warn('shutdown step failed', { step: name, error: errorMessage(error) }),
      ),
      boundMs ?? shutdownStepMs,
    );
    if (outcome === 'timeout') logger.warn('shutdown step timed out', { step: name });
  }
  await connections.closeAll(shutdownStepMs);
}

async function startWorkers(shared: Shared, mode: Mode): Promise<number | undefined> {
  const { env, config, logger, metrics, connections, redis, poster, closers } = shared;
  const rest =
    env.PAGERDUTY_API_TOKEN && config.pagerduty
      ? new PagerDutyRest({
          apiUrl: config.pagerduty.apiUrl,
          token: env.PAGERDUTY_API_TOKEN,
          from: config.pagerduty.note.from,
        })
      : undefined;
  // Every worker gets its own blocking connection (BullMQ needs maxRetriesPerRequest: null).
  const workerDeps = (purpose: string) => ({
    config,
    redis,
    connection: connections.open(purpose, { maxRetriesPerRequest: null }),
    poster,
    logger,
  });
  // KPROXY_WORKER_QUEUES: approved actions can run in a process of their own, under the one
  // identity that holds the write permissions (deploy/base/action-worker.yaml).
  const serves = new Set(env.KPROXY_WORKER_QUEUES);
  const workers: Worker[] = [];
  if (serves.has('diagnose'))
    workers.push(
      startDiagnoseWorker({
        ...workerDeps('diagnose worker'),
        onJobDone: (outcome, seconds) => {
          metrics.inc('kproxy_jobs_finished_total', { outcome });
          metrics.observe('kproxy_job_duration_seconds', seconds);
        },
        afterReport: (job, diagnosis) =>
          notePagerDuty({ config, redis, rest, poster, logger }, job, diagnosis),
      }),
    );
  const diagnoseQueue = connections.watch(
    new Queue(diagnoseQueueName, {
      connection: connections.open('diagnose queue', { maxRetriesPerRequest: 3 }),
    }),
    'queue error (diagnose)',
  );
  // The starts a bot process (`bot` mode) queued before its acks (admission.ts): the mover
  // hands them to the start queue, the start worker posts the parents and queues the
  // diagnoses. In `npm start` the bot starts its own (the start queue's hop cost its one
  // event loop more than it saved: bench/ack-latency.ts, README).
  const starts = serves.has('diagnose') && mode === 'worker' ? startStarts(shared, diagnoseQueue) : undefined;
  if (starts) workers.push(starts.worker);
  if (serves.has('execute'))
    workers.push(startExecuteWorker({ ...workerDeps('execute worker'), diagnoseQueue }));
  if (serves.has('pagerduty') && config.pagerduty)
    workers.push(...startPagerDutyWorkers({ ...workerDeps('pagerduty worker'), diagnoseQueue, rest }));
  logger.info('worker queues', { queues: [...serves] });
  closers.unshift({
    name: 'workers',
    boundMs: shutdownGraceMs + shutdownStepMs,
    close: async () => {
      // Running jobs can only finish (and be marked done) while Redis answers.
      if (redis.status === 'ready')
        await withinBound(Promise.all(workers.map((w) => w.close())), shutdownGraceMs);
      await Promise.all(workers.map((w) => w.close(true)));
    },
  });
  // The mover first: it finishes the start in hand while the start queue and Redis are up.
  if (starts) {
    closers.unshift({ name: 'start mover', close: () => starts.mover.stop() });
    closers.push({ name: 'start queue', close: () => starts.queue.close() });
  }
  closers.push({ name: 'diagnose queue', close: () => diagnoseQueue.close() });
  if (mode !== 'worker') return undefined;
  const health = await startWorkerHealth(env.PORT, redis, workers, () => metrics.text(), env.BIND_ADDRESS);
  logger.info('worker health listening', { port: health.port });
  closers.push({ name: 'health server', close: () => health.close() });
  return health.port;
}

/** The worker side of the starts: the mover (start list → start queue) and the start worker. */
function startStarts(
  { connections, redis, poster, logger, metrics }: Shared,
  diagnoseQueue: Queue,
): { worker: Worker; mover: StartMover; queue: Queue } {
  const queue = connections.watch(
    new Queue(startQueueName, { connection: connections.open('start queue', { maxRetriesPerRequest: 3 }) }),
    'queue error (start)',
  );
  const mover = startStartMover({
    blocking: connections.open('start mover', { maxRetriesPerRequest: null }),
    redis,
    startQueue: queue,
    logger,
  });
  const worker = startStartWorker({
    redis,
    queue: diagnoseQueue,
    connection: connections.open('start worker', { maxRetriesPerRequest: null }),
    poster,
    logger,
    metrics,
  });
  return { worker, mover, queue };
}

async function startBotSide(shared: Shared, mode: Mode): Promise<number> {
  const { env, config, logger, metrics, connections, poster, closers } = shared;
  const readiness: Promise<unknown>[] = [];
  // The bot's connections fail fast (no offline queue, 1 s per command) so a Redis outage
  // cannot delay the ack past Slack's 3 seconds.
  const fastFail = (purpose: string) =>
    connections.open(purpose, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  const queueOn = (name: string, purpose: string) => {
    const queue = connections.watch(
      new Queue(name, { connection: fastFail(purpose) }),
      `queue error (${purpose})`,
    );
    readiness.push(queue.waitUntilReady());
    closers.push({ name: purpose, close: () => queue.close() });
    return queue;
  };
  const queue = queueOn(diagnoseQueueName, 'diagnose queue');
  const executeQueue = queueOn(executeQueueName, 'execute queue');
  metrics.gauge('kproxy_jobs', () =>
    queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'),
  );
  const botRedis = connections.open('bot', botRedisOptions);
  readiness.push(redisReady(botRedis));
  const routes = pagerDutyRoutes(shared, queueOn);
  // The fail-fast connections refuse commands until they are up: give them a moment before
  // taking requests (a Redis outage at start-up must not keep the bot from answering).
  await withinBound(Promise.allSettled(readiness), startupReadyMs);
  // A bot process of its own queues each admitted command's start in Redis before its ack
  // (admission.ts) for the worker processes; in `npm start` the bot starts its own after the
  // acks, and shutdown waits for those.
  const pending = new PendingStarts();
  const app = createBot({
    config,
    env,
    redis: botRedis,
    queue,
    executeQueue,
    ...(mode === 'bot' ? { startList: startListKeys.queued } : {}),
    poster,
    logger,
    metrics,
    routes,
    pending,
  });
  const port = await listenBot(app, env);
  logger.info('bot listening', { port, mode: env.SLACK_SIGNING_SECRET ? 'http' : 'socket' });
  const health = await startHealthServer({
    port: env.HEALTH_PORT,
    host: env.HEALTH_BIND_ADDRESS,
    ready: botReadiness(botRedis, poster),
    metricsText: () => metrics.text(),
  });
  shared.healthPort = health.port;
  logger.info('bot probes listening', { port: health.port });
  closers.push({ name: 'health server', close: () => health.close() });
  // No new requests first; then the acknowledged ones get a moment to be queued (or told).
  closers.unshift({
    name: 'pending commands',
    boundMs: pendingCommandsMs + shutdownStepMs,
    close: () => pending.drain(pendingCommandsMs),
  });
  closers.unshift({ name: 'slack receiver', close: () => app.stop() });
  return port;
}

function pagerDutyRoutes(
  { env, config, logger, metrics }: Shared,
  queueOn: (name: string, purpose: string) => Queue,
): ReturnType<typeof pagerDutyWebhookRoute>[] {
  const secrets = (env.PAGERDUTY_WEBHOOK_SECRETS ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (secrets.length === 0) {
    if (config.pagerduty)
      logger.warn('pagerduty is configured but PAGERDUTY_WEBHOOK_SECRETS is not set: the webhook is off');
    return [];
  }
  const queue = queueOn(pagerDutyQueueName, 'pagerduty queue');
  const statusQueue = queueOn(pagerDutyStatusQueueName, 'pagerduty status queue');
  return [pagerDutyWebhookRoute({ secrets, queue, statusQueue, logger, metrics })];
}

export async function runFromCommandLine(mode: Mode): Promise<void> {
  const logger = createLogger(mode);
  guardProcess(logRepeatsOnce(logger));
  // The handlers come first: a SIGTERM that arrives while (or right after) kproxy starts
  // must stop it cleanly, and without a handler the OS would kill the process outright.
  let starting: Promise<Running> | undefined;
  stopOnSignals(
    async () => {
      const running = await starting?.catch(() => undefined);
      await running?.stop();
    },
    logger,
    shutdownBoundMs,
  );
  try {
    starting = start(mode);
    await starting;
  } catch (error) {
    process.stderr.write(`kproxy ${mode}: ${describeError(error)}\n`);
    process.exit(2);
  }
}
