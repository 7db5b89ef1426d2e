/**
 * The whole bot against real parts: Bolt's HTTP receiver, BullMQ on the test run's
 * redis-server, a worker, the fake Slack API, and the test API server serving a bundle as
 * the cluster (or, with `startBotStack`, any cluster the configuration names: the cluster
 * suite points it at the lab). Each stack uses its own BullMQ prefix.
 */
import { randomUUID } from 'node:crypto';
import { Queue, type Worker, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach } from 'vitest';
import { createBot, listenBot } from '../../src/bot/app.js';
import { botReadiness } from '../../src/bot/readiness.js';
import { PendingStarts } from '../../src/bot/start-diagnosis.js';
import { parseConfig, parseEnv } from '../../src/config/config.js';
import { createLogger } from '../../src/log.js';
import { Metrics, metricHelp } from '../../src/metrics.js';
import { diagnoseQueueName, executeQueueName } from '../../src/queue/jobs.js';
import { SlackPoster } from '../../src/slack/poster.js';
import type { BundleApiServerOptions } from '../../src/testserver/bundle-api-server.js';
import { startDiagnoseWorker } from '../../src/workers/diagnose-worker.js';
import { startExecuteWorker } from '../../src/workers/execute-worker.js';
import { startHealthServer } from '../../src/workers/health-server.js';
import type { PostFixWait } from '../../src/workers/post-fix.js';
import { FakeSlack, type StoredMessage } from './fake-slack.js';
import { type Served, serve } from './live.js';
import { flushRedis } from './redis-server.js';
import { postAction, signingSecret } from './slack-requests.js';

export const incidentChannel = 'C0INCIDENT1';

/** The bot, its workers, Redis and the fake Slack API, whatever the cluster is. */
export interface BotStack {
  readonly slack: FakeSlack;
  readonly botUrl: string;
  /** The bot's probes and metrics (a listener apart from the Slack one). */
  readonly healthUrl: string;
  readonly queue: Queue;
  readonly redis: Redis;
  readonly prefix: string;
  readonly metrics: Metrics;
  readonly configYaml: string;
  worker: Worker | undefined;
  executeWorker: Worker | undefined;
  readonly executeQueue: Queue;
  /** Acknowledged commands still being started (parent post, queueing): tests wait for none. */
  readonly pending: PendingStarts;
  startWorker(options?: Partial<WorkerOptions>): Worker;
  stop(): Promise<void>;
}

/** A stack whose cluster is the test API server serving a bundle. */
export interface Stack extends BotStack {
  readonly api: Served;
}

interface CommonOptions {
  readonly redisUrl: string;
  readonly extraConfig?: string;
  readonly worker?: boolean;
  readonly workerOptions?: Partial<WorkerOptions>;
  /** Socket Mode (app token) instead of the HTTP receiver. */
  readonly socketMode?: boolean;
  /** The bot's Redis connection points at a port where nothing listens (an outage). */
  readonly botRedisDown?: boolean;
}

export interface StackOptions extends CommonOptions {
  readonly bundleDir: string;
  /** Replaces the default `clusters:` entry (which points at the served bundle). */
  readonly clusters?: (api: Served) => string | Promise<string>;
  /** Options of the test API server (faults, the bundle it serves after a write). */
  readonly api?: BundleApiServerOptions;
}

export interface BotStackOptions extends CommonOptions {
  /** The `clusters:` entries of the bot and the diagnosis worker. */
  readonly clusters: string;
  /**
   * The execute worker's `clusters:` entries, when it runs under its own identity (as
   * deploy/base's action worker does): the same cluster names, other credentials.
   */
  readonly executeClusters?: string;
  /** The post-fix check's re-diagnoses. @defaultValue 3 attempts, 300 ms apart */
  readonly postFixWait?: PostFixWait;
  /** Run after everything else stopped. */
  readonly onStop?: () => Promise<void>;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const api = await serve(o.bundleDir, o.api ?? {});
  const clusters = o.clusters
    ? await o.clusters(api)
    : [
        '  - name: prod-east',
        `    kubeconfig: { path: ${api.kubeconfig}, context: bundle }`,
        `    channels: [${incidentChannel}]`,
        '    nodeCaptures: debug-pod',
      ].join('\n');
  const stack = await startBotStack({ ...o, clusters, onStop: () => api.stop() });
  return Object.assign(stack, { api });
}

export async function startBotStack(o: BotStackOptions): Promise<BotStack> {
  const slack = new FakeSlack();
  await slack.start();
  const configYaml = ['clusters:', o.clusters, o.extraConfig ?? ''].join('\n');
  const config = parseConfig(configYaml, 'test-config.yaml');
  const executeConfig = o.executeClusters
    ? parseConfig(
        ['clusters:', o.executeClusters, o.extraConfig ?? ''].join('\n'),
        'test-execute-config.yaml',
      )
    : config;
  const secrets = o.socketMode
    ? { SLACK_APP_TOKEN: 'xapp-1-A0KPROXY-test' }
    : { SLACK_SIGNING_SECRET: signingSecret };
  const env = parseEnv(
    {
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      ...secrets,
      SLACK_API_URL: slack.apiUrl,
      REDIS_URL: o.redisUrl,
      PORT: '0',
    },
    'bot',
  );
  const prefix = `test-${randomUUID()}`;
  const redis = new Redis(o.redisUrl);
  const metrics = new Metrics(metricHelp);
  const logger = createLogger('test', (line) => {
    if (process.env.KPROXY_TEST_LOG) process.stderr.write(`${line}\n`);
  });
  const poster = new SlackPoster(redis, {
    token: env.SLACK_BOT_TOKEN,
    slackApiUrl: env.SLACK_API_URL,
    paceMs: 20,
    retryConfig: { retries: 3, factor: 1, minTimeout: 20, maxTimeout: 200 },
    onRetry: (method) => metrics.inc('kproxy_slack_retries_total', { method }),
  });
  const executeQueue = new Queue(executeQueueName, {
    connection: new Redis(o.redisUrl, { maxRetriesPerRequest: 1 }),
    prefix,
  });
  const queue = new Queue(diagnoseQueueName, {
    connection: new Redis(o.redisUrl, { maxRetriesPerRequest: 1 }),
    prefix,
  });
  metrics.gauge('kproxy_jobs', () =>
    queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'),
  );
  const botRedis = o.botRedisDown
    ? new Redis('redis://127.0.0.1:1', {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        retryStrategy: () => null,
      })
    : redis;
  botRedis.on('error', () => undefined);
  const pending = new PendingStarts();
  const app = createBot({
    config,
    env,
    redis: botRedis,
    queue,
    executeQueue,
    poster,
    logger,
    metrics,
    pending,
  });
  const botPort = await listenBot(app, env);
  const botUrl = o.socketMode ? '' : `http://127.0.0.1:${botPort}`;
  const health = await startHealthServer({
    port: 0,
    host: '127.0.0.1',
    ready: botReadiness(redis, poster),
    metricsText: () => metrics.text(),
  });
  const healthUrl = `http://127.0.0.1:${health.port}`;
  const stack: BotStack = {
    slack,
    botUrl,
    healthUrl,
    queue,
    redis,
    prefix,
    metrics,
    configYaml,
    worker: undefined,
    executeWorker: undefined,
    executeQueue,
    pending,
    startWorker(options = {}) {
      stack.worker = startDiagnoseWorker({
        config,
        redis,
        connection: new Redis(o.redisUrl, { maxRetriesPerRequest: null }),
        poster,
        logger,
        workerOptions: { prefix, ...o.workerOptions, ...options },
        postFixWait: o.postFixWait ?? { attempts: 3, delayMs: 300 },
      });
      stack.executeWorker = startExecuteWorker({
        config: executeConfig,
        redis,
        connection: new Redis(o.redisUrl, { maxRetriesPerRequest: null }),
        poster,
        logger,
        diagnoseQueue: queue,
        workerOptions: { prefix, ...o.workerOptions, ...options },
        sweepIntervalMs: 200,
      });
      return stack.worker;
    },
    async stop() {
      await stack.worker?.close(true);
      await stack.executeWorker?.close(true);
      await executeQueue.obliterate({ force: true }).catch(() => undefined);
      await executeQueue.close();
      await app.stop();
      await health.close();
      if (botRedis !== redis) botRedis.disconnect();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      // A job the force-closed workers left running may have closed or broken it already.
      await redis.quit().catch(() => redis.disconnect());
      await slack.stop();
      await o.onStop?.();
    },
  };
  if (o.worker !== false) stack.startWorker();
  return stack;
}

/** How long a test waits for a condition before calling it failed (a loaded machine is slow). */
export const patienceMs = 90_000;

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = patienceMs,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A message's buttons (values by label prefix) and signed clicks on them, as Slack sends them. */
export function controlsOf(s: BotStack, message: StoredMessage) {
  const block = message.blocks?.find((b) => (b as { type: string }).type === 'actions') as
    | { elements: { value: string; text: { text: string } }[] }
    | undefined;
  const elements = block?.elements ?? [];
  return {
    /** The value of the first button whose value (the action id leads it) or label starts with `prefix`. */
    button: (prefix = '') =>
      elements.find((b) => b.value.startsWith(prefix) || b.text.text.startsWith(prefix))?.value as string,
    click: (user: string, actionId: string, value: string, messageTs = message.ts) =>
      postAction(s.botUrl, {
        user,
        actionId,
        value,
        channel: message.channel,
        messageTs,
        threadTs: message.thread_ts ?? message.ts,
        responseUrl: `${s.slack.url}/response/${user}`,
      }),
  };
}

/**
 * Registers the per-test hooks of a suite that starts one whole stack per test: Redis is
 * emptied before each test, and the stack the test `started` is stopped after it.
 */
export function oneStackPerTest(redisUrl: string): { started: <S extends BotStack>(s: S) => S } {
  let stack: BotStack | undefined;
  beforeEach(async () => {
    await flushRedis(redisUrl);
  });
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });
  return {
    started: (s) => {
      stack = s;
      return s;
    },
  };
}
