/**
 * The split deployment's starts (issue 16): a bot process (`start('bot')`) acks a diagnose
 * command and only queues its start; the worker process (`start('worker')`) posts the
 * thread's parent and queues the diagnosis, and tells the user when it cannot. Real Bolt
 * receiver, real BullMQ and redis-server, the test API server as the cluster.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { startOrJoin } from '../src/bot/start-diagnosis.js';
import { createLogger } from '../src/log.js';
import { type Running, start } from '../src/main.js';
import { Metrics, metricHelp } from '../src/metrics.js';
import { diagnoseQueueName, enqueueStart, keys, startListKeys, startQueueName } from '../src/queue/jobs.js';
import { SlackPoster } from '../src/slack/poster.js';
import { startStartWorker } from '../src/workers/start-worker.js';
import { bundlesDir } from './helpers/bundles.js';
import { FakeSlack } from './helpers/fake-slack.js';
import { serve, servedClusterYaml } from './helpers/live.js';
import { flushRedis } from './helpers/redis-server.js';
import { postCommand, signingSecret } from './helpers/slack-requests.js';
import { waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const cleanups: (() => Promise<unknown>)[] = [];
const user = 'U0ONCALL01';
beforeEach(() => flushRedis(redisUrl));
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setUp() {
  const slack = new FakeSlack();
  await slack.start();
  cleanups.push(() => slack.stop());
  const api = await serve(path.join(bundlesDir, 'healthy'));
  cleanups.push(() => api.stop());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-handoff-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'kproxy.yaml');
  await writeFile(config, servedClusterYaml(api, ['C0INCIDENT1'], 'debug-pod').join('\n'));
  const env = {
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.apiUrl,
    REDIS_URL: redisUrl,
    KPROXY_CONFIG: config,
    PORT: '0',
    HEALTH_PORT: '0',
  };
  const run = async (mode: 'bot' | 'worker'): Promise<Running> => {
    const running = await start(mode, env);
    cleanups.push(() => running.stop());
    return running;
  };
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const starts = new Queue(startQueueName, { connection });
  cleanups.push(async () => {
    await starts.close();
    connection.disconnect();
  });
  return { slack, run, starts };
}

const command = (url: string, slack: FakeSlack) =>
  postCommand(url, 'diagnose prod-east app/web-api', { user, responseUrl: `${slack.url}/response/${user}` });

describe('the split deployment: the worker process starts what the bot acked', () => {
  it('the bot acks and queues the start; the worker posts the parent, queues the diagnosis, and it reports', async () => {
    const { slack, run, starts } = await setUp();
    const bot = await run('bot');
    expect(await command(`http://127.0.0.1:${bot.port}`, slack)).toMatchObject({ status: 200, body: '' });
    // No worker yet: the start waits in Redis (queued before the ack: the start list), and
    // the bot posts nothing itself.
    const probe = new Redis(redisUrl);
    cleanups.push(() => probe.quit());
    expect(await probe.llen(startListKeys.queued)).toBe(1);
    expect(slack.messages).toEqual([]);
    await run('worker');
    const parent = await waitFor('the parent', () => slack.messages.find((m) => !m.thread_ts));
    expect(parent.text).toContain('app/web-api on prod-east');
    await waitFor('the report', () => slack.reports().find((m) => m.thread_ts === parent.ts), 60_000);
    expect(await starts.getJobCounts('waiting', 'active', 'failed')).toEqual({
      waiting: 0,
      active: 0,
      failed: 0,
    });
  }, 90_000);

  it('a start the worker cannot make is told to the user (Slack refuses the parent: not_in_channel)', async () => {
    const { slack, run } = await setUp();
    const bot = await run('bot');
    await run('worker');
    slack.refuse(/^chat\.postMessage$/, 'not_in_channel', 1);
    expect(await command(`http://127.0.0.1:${bot.port}`, slack)).toMatchObject({ status: 200, body: '' });
    const told = await waitFor('the user to hear why', () =>
      slack.responses.find((r) => r.path === `/response/${user}`),
    );
    expect(told.body).toMatchObject({ response_type: 'ephemeral' });
    expect(String(told.body.text)).toMatch(
      /^:x: kproxy could not start the diagnosis: .*not_in_channel.*Nothing is running; run the command again\.$/,
    );
  }, 60_000);
});

describe('a start run again', () => {
  it('resumes its own claim on the target (same request id): one parent, one diagnosis job', async () => {
    const slack = new FakeSlack();
    await slack.start();
    cleanups.push(() => slack.stop());
    const redis = new Redis(redisUrl);
    const prefix = `test-${randomUUID()}`;
    const queue = new Queue(diagnoseQueueName, { connection: new Redis(redisUrl), prefix });
    cleanups.push(async () => {
      await queue.close();
      redis.disconnect();
    });
    const deps = {
      redis,
      queue,
      poster: new SlackPoster(redis, { token: 'xoxb-test-token', slackApiUrl: slack.apiUrl }),
      logger: createLogger('test', () => undefined),
      metrics: new Metrics(metricHelp),
    };
    const request = {
      cluster: 'prod-east',
      target: { namespace: 'app', service: 'web-api' },
      channel: 'C0INCIDENT1',
      user,
    };
    const requestId = randomUUID();
    expect(await startOrJoin(deps, request, requestId)).toBe('started');
    expect(await startOrJoin(deps, request, requestId)).toBe('started');
    expect(slack.messages).toHaveLength(1);
    expect((await queue.getJobCounts()).waiting).toBe(1);
    // Another request for the same target still joins the thread.
    expect(await startOrJoin(deps, request)).toBe('joined');
    expect((await queue.getJobCounts()).waiting).toBe(1);
  });
});

describe('a start whose worker stopped half-way', () => {
  async function stalledStart(slack: FakeSlack, maxStalledCount: number) {
    const redis = new Redis(redisUrl);
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const prefix = `test-${randomUUID()}`;
    const queue = new Queue(diagnoseQueueName, { connection: new Redis(redisUrl), prefix });
    const starts = new Queue(startQueueName, { connection, prefix });
    cleanups.push(async () => {
      await starts.close();
      await queue.close();
      connection.disconnect();
      redis.disconnect();
    });
    const requestId = randomUUID();
    const request = {
      cluster: 'prod-east',
      target: { namespace: 'app', service: 'web-api' },
      channel: 'C0INCIDENT1',
      user,
    };
    await enqueueStart(starts, { requestId, ...request, responseUrl: `${slack.url}/response/${user}` });
    // The first worker took the job, claimed the target, and stopped before posting the parent
    // (its lock lapses; nothing completes the job).
    const gone = new Worker(startQueueName, null, { connection, prefix, lockDuration: 500 });
    cleanups.push(() => gone.close(true));
    expect((await gone.getNextJob(randomUUID()))?.id).toBe(`start__${requestId}`);
    await redis.set(
      keys.running(request.cluster, request.target),
      JSON.stringify({ jobId: `diag__${requestId}`, channel: request.channel, threadTs: '' }),
    );
    const worker = startStartWorker({
      redis,
      queue,
      connection,
      poster: new SlackPoster(redis, { token: 'xoxb-test-token', slackApiUrl: slack.apiUrl }),
      logger: createLogger('test', () => undefined),
      metrics: new Metrics(metricHelp),
      workerOptions: { prefix, stalledInterval: 300, maxStalledCount },
    });
    cleanups.push(() => worker.close(true));
    return { queue };
  }

  it('is run again and resumes its own claim on the target: the parent, then the diagnosis job', async () => {
    const slack = new FakeSlack();
    await slack.start();
    cleanups.push(() => slack.stop());
    const { queue } = await stalledStart(slack, 1);
    const parent = await waitFor('the parent', () => slack.messages.find((m) => !m.thread_ts), 30_000);
    expect(parent.text).toContain('app/web-api on prod-east');
    await waitFor('the diagnosis job', async () => (await queue.getJobCounts()).waiting === 1);
    expect(slack.messages.filter((m) => m.text?.includes('already being diagnosed'))).toEqual([]);
  }, 60_000);

  it('stopped more often than BullMQ runs it again: its user is told it was not started', async () => {
    const slack = new FakeSlack();
    await slack.start();
    cleanups.push(() => slack.stop());
    await stalledStart(slack, 0);
    const told = await waitFor(
      'the user to hear',
      () => slack.responses.find((r) => r.path === `/response/${user}`),
      30_000,
    );
    expect(told.body).toEqual({
      response_type: 'ephemeral',
      text: ':warning: kproxy was restarting and could not start this diagnosis; run the command again.',
    });
    expect(slack.messages).toEqual([]);
  }, 60_000);
});
