/**
 * Process entry points: `bot` (Slack receiver + HTTP routes), `worker` (diagnose jobs),
 * or `all` for small setups (`npm start`). Configuration is read once; SIGTERM finishes
 * running jobs (or hands them back to the queue after a grace period) and closes
 * connections in order.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createBot, healthRoutes } from './bot/app.js';
import { loadConfig, parseEnv } from './config/config.js';
import { describeError, errorMessage } from './errors.js';
import { createLogger } from './log.js';
import { Metrics, metricHelp } from './metrics.js';
import { pagerDutyQueueName, pagerDutyStatusQueueName } from './pagerduty/payload.js';
import { PagerDutyRest } from './pagerduty/rest.js';
import { pagerDutyWebhookRoute } from './pagerduty/webhook.js';
import { diagnoseQueueName, executeQueueName } from './queue/jobs.js';
import { SlackPoster } from './slack/poster.js';
import { startDiagnoseWorker } from './workers/diagnose-worker.js';
import { startExecuteWorker } from './workers/execute-worker.js';
import { startWorkerHealth } from './workers/health-server.js';
import { notePagerDuty, startPagerDutyWorkers } from './workers/pagerduty-worker.js';

export type Mode = 'bot' | 'worker' | 'all';

/** Seconds running jobs get to finish on shutdown before they are handed back. */
const shutdownGraceMs = 25_000;

export interface Running {
  readonly port: number | undefined;
  stop(): Promise<void>;
}

const startupReadyMs = 5000;

function redisReady(redis: Redis): Promise<void> {
  return redis.status === 'ready'
    ? Promise.resolve()
    : new Promise((resolve) => redis.once('ready', () => resolve()));
}

async function untilReadyOrTimeout(waits: Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(waits),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

export async function start(mode: Mode, processEnv: NodeJS.ProcessEnv = process.env): Promise<Running> {
  const env = parseEnv(processEnv, mode === 'worker' ? 'worker' : 'bot');
  const config = await loadConfig(env.KPROXY_CONFIG);
  const logger = createLogger(mode);
  const metrics = new Metrics(metricHelp);
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 3 });
  redis.on('error', (error) => logger.warn('redis error', { error: errorMessage(error) }));
  const poster = new SlackPoster(redis, {
    token: env.SLACK_BOT_TOKEN,
    slackApiUrl: env.SLACK_API_URL,
    onRetry: (method, reason) => {
      metrics.inc('kproxy_slack_retries_total', { method: method.split('/').pop() ?? method });
      logger.warn('slack call retried', { method, reason });
    },
  });
  const closers: (() => Promise<unknown>)[] = [];
  let port: number | undefined;

  const rest =
    env.PAGERDUTY_API_TOKEN && config.pagerduty
      ? new PagerDutyRest({
          apiUrl: config.pagerduty.apiUrl,
          token: env.PAGERDUTY_API_TOKEN,
          from: config.pagerduty.note.from,
        })
      : undefined;
  if (mode !== 'bot') {
    // Every worker gets its own blocking connection (BullMQ needs maxRetriesPerRequest: null).
    const workerDeps = () => ({
      config,
      redis,
      connection: new Redis(env.REDIS_URL, { maxRetriesPerRequest: null }),
      poster,
      logger,
    });
    const worker = startDiagnoseWorker({
      ...workerDeps(),
      onJobDone: (outcome, seconds) => {
        metrics.inc('kproxy_jobs_finished_total', { outcome });
        metrics.inc('kproxy_job_duration_seconds_sum', {}, seconds);
      },
      afterReport: (job, diagnosis) => notePagerDuty({ config, redis, rest, poster, logger }, job, diagnosis),
    });
    const workers = [worker];
    const diagnoseQueue = new Queue(diagnoseQueueName, {
      connection: new Redis(env.REDIS_URL, { maxRetriesPerRequest: 3 }),
    });
    closers.push(() => diagnoseQueue.close());
    workers.push(startExecuteWorker({ ...workerDeps(), diagnoseQueue }));
    if (config.pagerduty) workers.push(...startPagerDutyWorkers({ ...workerDeps(), diagnoseQueue, rest }));
    if (mode === 'worker') {
      const health = await startWorkerHealth(env.PORT, redis, workers, () => metrics.text());
      port = health.port;
      logger.info('worker health listening', { port });
      closers.push(() => health.close());
    }
    closers.unshift(async () => {
      await Promise.race([
        Promise.all(workers.map((w) => w.close())),
        new Promise((r) => setTimeout(r, shutdownGraceMs)),
      ]);
      await Promise.all(workers.map((w) => w.close(true)));
    });
  }
  if (mode !== 'worker') {
    const readiness: Promise<unknown>[] = [];
    const pagerDutyRoutes = () => {
      const secrets = (env.PAGERDUTY_WEBHOOK_SECRETS ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      if (secrets.length === 0) {
        if (config.pagerduty)
          logger.warn('pagerduty is configured but PAGERDUTY_WEBHOOK_SECRETS is not set: the webhook is off');
        return [];
      }
      const fastFail = () => new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
      const pdQueue = new Queue(pagerDutyQueueName, { connection: fastFail() });
      const statusQueue = new Queue(pagerDutyStatusQueueName, { connection: fastFail() });
      for (const q of [pdQueue, statusQueue]) {
        q.on('error', (error) => logger.warn('queue error', { error: errorMessage(error) }));
        closers.push(() => q.close());
        readiness.push(q.waitUntilReady());
      }
      return [pagerDutyWebhookRoute({ secrets, queue: pdQueue, statusQueue, logger, metrics })];
    };
    const queue = new Queue(diagnoseQueueName, {
      connection: new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false }),
    });
    queue.on('error', (error) => logger.warn('queue error', { error: errorMessage(error) }));
    metrics.gauge('kproxy_jobs', () =>
      queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'),
    );
    // The bot's own connection fails fast (no offline queue, 1 s per command) so a Redis
    // outage cannot delay the ack past Slack's 3 seconds.
    const botRedis = new Redis(env.REDIS_URL, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      commandTimeout: 1000,
    });
    botRedis.on('error', (error) => logger.warn('redis error', { error: errorMessage(error) }));
    const executeQueue = new Queue(executeQueueName, {
      connection: new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false }),
    });
    executeQueue.on('error', (error) => logger.warn('queue error', { error: errorMessage(error) }));
    closers.push(() => executeQueue.close());
    // The fail-fast connections refuse commands until they are up: give them a moment before
    // taking requests (a Redis outage at start-up must not keep the bot from answering).
    const routes = [...healthRoutes(botRedis, poster, () => metrics.text()), ...pagerDutyRoutes()];
    readiness.push(queue.waitUntilReady(), executeQueue.waitUntilReady(), redisReady(botRedis));
    await untilReadyOrTimeout(readiness, startupReadyMs);
    const app = createBot({
      config,
      env,
      redis: botRedis,
      queue,
      executeQueue,
      poster,
      logger,
      metrics,
      routes,
    });
    closers.push(() => botRedis.quit());
    const server = (await app.start(env.PORT)) as
      | { address?: () => { port: number } | string | null }
      | undefined;
    const address = server?.address?.();
    port = typeof address === 'object' && address ? address.port : env.PORT;
    logger.info('bot listening', { port, mode: env.SLACK_SIGNING_SECRET ? 'http' : 'socket' });
    closers.unshift(() => app.stop());
    closers.push(() => queue.close());
  }
  logger.info('kproxy started', { mode, clusters: config.clusters.map((c) => c.name) });
  return {
    port,
    async stop() {
      for (const close of closers)
        await close().catch((error) => logger.warn('shutdown step failed', { error: errorMessage(error) }));
      await redis.quit().catch(() => undefined);
    },
  };
}

export async function runFromCommandLine(mode: Mode): Promise<void> {
  try {
    const running = await start(mode);
    const stop = () => void running.stop().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  } catch (error) {
    process.stderr.write(`kproxy ${mode}: ${describeError(error)}\n`);
    process.exit(2);
  }
}
