/**
 * The durable start handoff (issue 16): the admission script queues an admitted command's
 * start in Redis in the same call that admits it, before the ack; the worker side's mover
 * (BLMOVE, idempotent add, LREM, a sweep for a stopped mover's leftovers) hands it to the
 * start queue. Real redis-server, real BullMQ, the real Bolt receiver (processes of their
 * own where one is killed).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { admit } from '../src/bot/admission.js';
import { parseConfig } from '../src/config/config.js';
import { createLogger } from '../src/log.js';
import { type Running, start } from '../src/main.js';
import { Metrics, metricHelp } from '../src/metrics.js';
import {
  diagnoseQueueName,
  enqueueStart,
  keys,
  type StartJob,
  startListKeys,
  startQueueName,
} from '../src/queue/jobs.js';
import { SlackPoster } from '../src/slack/poster.js';
import { type StartMover, startStartMover, sweep } from '../src/workers/start-mover.js';
import { startStartWorker } from '../src/workers/start-worker.js';
import { bundlesDir } from './helpers/bundles.js';
import { FakeSlack } from './helpers/fake-slack.js';
import { serve, servedClusterYaml } from './helpers/live.js';
import { freePort } from './helpers/ports.js';
import { flushRedis, recordCommands } from './helpers/redis-server.js';
import { postCommand, signingSecret } from './helpers/slack-requests.js';
import { waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const cleanups: (() => Promise<unknown>)[] = [];
const user = 'U0ONCALL01';
const channel = 'C0INCIDENT1';
const logger = createLogger('test', () => undefined);
let redis: Redis;
beforeEach(async () => {
  await flushRedis(redisUrl);
  redis = new Redis(redisUrl);
  cleanups.push(() => redis.quit());
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const config = (limits = '') =>
  parseConfig(
    `clusters:\n  - name: prod-east\n    inCluster: true\n    channels: [${channel}]\n${limits}`,
    'test.yaml',
  );

function startOf(o: Partial<StartJob> = {}): StartJob {
  return {
    requestId: randomUUID(),
    cluster: 'prod-east',
    target: { namespace: 'app', service: 'web-api' },
    channel,
    user,
    queuedAt: Date.now(),
    ...o,
  };
}

describe('admission queues the start in the same script call', () => {
  it('admitted: one EVAL, and the start is in the list; duplicate and limited: nothing is queued', async () => {
    const c = config('rateLimits: { perUser: { max: 1, windowSeconds: 60 } }');
    const counted = new Redis(redisUrl);
    cleanups.push(() => counted.quit());
    await counted.ping();
    const sent = recordCommands(counted);
    const delivery = { key: 'kproxy:delivery:1.2.3', ttlSeconds: 600 };
    const queued = startOf();
    const startArg = { key: startListKeys.queued, payload: JSON.stringify(queued) };
    expect(await admit(counted, c, user, channel, delivery, startArg)).toEqual({ kind: 'admitted' });
    expect(sent).toEqual(['eval']);
    expect((await redis.lrange(startListKeys.queued, 0, -1)).map((x) => JSON.parse(x))).toEqual([queued]);
    // Slack's redelivery (same trigger id), then a command past the user's limit: nothing more queued.
    const again = { key: startListKeys.queued, payload: JSON.stringify(startOf()) };
    expect(await admit(counted, c, user, channel, delivery, again)).toEqual({ kind: 'duplicate' });
    const limited = await admit(counted, c, user, channel, { ...delivery, key: 'kproxy:delivery:4' }, again);
    expect(limited).toMatchObject({ kind: 'limited' });
    expect(await redis.llen(startListKeys.queued)).toBe(1);
    expect(sent).toEqual(['eval', 'eval', 'eval']);
  });
});

/** A mover on the start queue of its own BullMQ prefix; stopped after the test. */
function moverOn(queue: Queue, o: { graceMs?: number; sweepMs?: number } = {}): StartMover {
  const blocking = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const mover = startStartMover({ blocking, redis, startQueue: queue, logger, ...o });
  cleanups.push(async () => {
    await mover.stop();
    blocking.disconnect();
  });
  return mover;
}

function startQueue(): Queue {
  const queue = new Queue(startQueueName, {
    connection: new Redis(redisUrl),
    prefix: `test-${randomUUID()}`,
  });
  cleanups.push(() => queue.close());
  return queue;
}

const jobIds = async (queue: Queue) => (await queue.getJobs()).map((j) => j.id).sort();

describe('the mover', () => {
  it('two movers hand every start over exactly once, and leave both lists empty', async () => {
    const queue = startQueue();
    const starts = Array.from({ length: 60 }, () => startOf());
    moverOn(queue);
    moverOn(queue);
    for (const s of starts) await redis.rpush(startListKeys.queued, JSON.stringify(s));
    await waitFor('every start queued', async () => (await queue.count()) === starts.length);
    expect(await jobIds(queue)).toEqual(starts.map((s) => `start__${s.requestId}`).sort());
    await waitFor('the moving list emptied', async () => (await redis.llen(startListKeys.moving)) === 0);
    expect(await redis.llen(startListKeys.queued)).toBe(0);
  });

  it('a mover that stopped between BLMOVE and queue.add loses nothing: the sweep hands it over after the grace time', async () => {
    const queue = startQueue();
    const left = startOf({ queuedAt: Date.now() - 60_000 });
    const fresh = startOf();
    // As a mover that died right after its BLMOVE: the items sit in `moving`, not in the queue.
    await redis.rpush(startListKeys.moving, JSON.stringify(left), JSON.stringify(fresh));
    const deps = { blocking: redis, redis, startQueue: queue, logger, graceMs: 30_000 };
    // Within the grace time an item may still be in a live mover's hands: it is left alone.
    expect(await sweep(deps)).toBe(1);
    expect(await jobIds(queue)).toEqual([`start__${left.requestId}`]);
    expect(await redis.lrange(startListKeys.moving, 0, -1)).toEqual([JSON.stringify(fresh)]);
    // A running mover's own sweep takes the other once it is old enough.
    moverOn(queue, { graceMs: 200, sweepMs: 100 });
    await waitFor('the second start', async () => (await queue.count()) === 2);
    await waitFor('the moving list emptied', async () => (await redis.llen(startListKeys.moving)) === 0);
  });
});

describe('a start handed over twice runs once', () => {
  it('a mover that stopped between queue.add and LREM: the re-add is a no-op, and even after BullMQ removed the finished job it does not start again', async () => {
    const slack = new FakeSlack();
    await slack.start();
    cleanups.push(() => slack.stop());
    const starts = startQueue();
    const diagnoses = new Queue(diagnoseQueueName, {
      connection: new Redis(redisUrl),
      prefix: `test-${randomUUID()}`,
    });
    cleanups.push(() => diagnoses.close());
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const worker = startStartWorker({
      redis,
      queue: diagnoses,
      connection,
      poster: new SlackPoster(redis, { token: 'xoxb-test-token', slackApiUrl: slack.apiUrl }),
      logger,
      metrics: new Metrics(metricHelp),
      workerOptions: { prefix: starts.opts.prefix },
    });
    cleanups.push(async () => {
      await worker.close(true);
      connection.disconnect();
    });
    const job = startOf({ queuedAt: Date.now() - 60_000 });
    const item = JSON.stringify(job);
    const deps = { blocking: redis, redis, startQueue: starts, logger, graceMs: 1_000 };
    // Added, then the mover died before its LREM: the item is still in `moving`.
    await enqueueStart(starts, job);
    await redis.rpush(startListKeys.moving, item);
    await waitFor('the parent', () => slack.messages.find((m) => !m.thread_ts));
    await waitFor('the start done', async () => (await starts.getJobCounts('completed')).completed === 1);
    expect(await sweep(deps)).toBe(1);
    // Later: the diagnosis finished (its target is free again) and BullMQ forgot the finished
    // start (its retention passed); a late sweep adds the start again.
    await redis.del(keys.running(job.cluster, job.target));
    await (await starts.getJob(`start__${job.requestId}`))?.remove();
    await redis.rpush(startListKeys.moving, item);
    expect(await sweep(deps)).toBe(1);
    await waitFor(
      'the re-added start done',
      async () => (await starts.getJobCounts('completed')).completed === 1,
    );
    expect(slack.messages.filter((m) => !m.thread_ts)).toHaveLength(1);
    expect((await diagnoses.getJobCounts()).waiting).toBe(1);
  });
});

describe('the deployments: the bot queues the start before its ack', () => {
  async function setUp(redisAt = redisUrl) {
    const slack = new FakeSlack();
    await slack.start();
    cleanups.push(() => slack.stop());
    const api = await serve(path.join(bundlesDir, 'healthy'));
    cleanups.push(() => api.stop());
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-start-list-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const configPath = path.join(dir, 'kproxy.yaml');
    await writeFile(configPath, servedClusterYaml(api, [channel], 'debug-pod').join('\n'));
    const env = {
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      REDIS_URL: redisAt,
      KPROXY_CONFIG: configPath,
      PORT: '0',
      HEALTH_PORT: '0',
    };
    const run = async (mode: 'bot' | 'worker' | 'all'): Promise<Running> => {
      const running = await start(mode, env);
      cleanups.push(() => running.stop());
      return running;
    };
    return { slack, env, run };
  }
  const command = (url: string, slack: FakeSlack) =>
    postCommand(url, 'diagnose prod-east app/web-api', {
      user,
      responseUrl: `${slack.url}/response/${user}`,
    });

  it('the start is in Redis when the ack arrives, with what the worker needs', async () => {
    const { slack, run } = await setUp();
    const bot = await run('bot');
    expect(await command(`http://127.0.0.1:${bot.port}`, slack)).toMatchObject({ status: 200, body: '' });
    const [queued] = (await redis.lrange(startListKeys.queued, 0, -1)).map((x) => JSON.parse(x) as StartJob);
    expect(queued).toMatchObject({
      cluster: 'prod-east',
      target: { namespace: 'app', service: 'web-api' },
      channel,
      user,
      responseUrl: `${slack.url}/response/${user}`,
    });
    expect(queued?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  }, 60_000);

  it('a bot process killed (SIGKILL) right after its ack: the worker still starts it and it reports', async () => {
    const { slack, env, run } = await setUp();
    const [port, healthPort] = [await freePort(), await freePort()];
    const bot: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, '..', 'src', 'bot', 'main.ts')],
      {
        env: { ...process.env, ...env, PORT: String(port), HEALTH_PORT: String(healthPort) },
        stdio: 'ignore',
      },
    );
    const exited = new Promise((r) => bot.once('exit', r));
    cleanups.push(async () => {
      if (bot.exitCode === null && bot.signalCode === null) bot.kill('SIGKILL');
      await exited;
    });
    await waitFor('the bot process', () =>
      fetch(`http://127.0.0.1:${healthPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
    );
    expect(await command(`http://127.0.0.1:${port}`, slack)).toMatchObject({ status: 200, body: '' });
    bot.kill('SIGKILL');
    await exited;
    await run('worker');
    const parent = await waitFor('the parent', () => slack.messages.find((m) => !m.thread_ts));
    expect(parent.text).toContain('app/web-api on prod-east');
    await waitFor('the report', () => slack.reports().find((m) => m.thread_ts === parent.ts), 60_000);
  }, 120_000);

  it('npm start (one process) starts its own commands: nothing goes through the start list', async () => {
    const { slack, run } = await setUp();
    const all = await run('all');
    expect(await command(`http://127.0.0.1:${all.port}`, slack)).toMatchObject({ status: 200, body: '' });
    const parent = await waitFor('the parent', () => slack.messages.find((m) => !m.thread_ts));
    await waitFor('the report', () => slack.reports().find((m) => m.thread_ts === parent.ts), 60_000);
    expect(await redis.exists(startListKeys.queued, startListKeys.moving)).toBe(0);
  }, 90_000);

  it('Redis down: the bot answers the same one line as before, and nothing is queued', async () => {
    const { slack, run } = await setUp(`redis://127.0.0.1:${await freePort()}`);
    const bot = await run('bot');
    const ack = await command(`http://127.0.0.1:${bot.port}`, slack);
    expect(ack.status).toBe(200);
    expect(JSON.parse(ack.body)).toEqual({
      response_type: 'ephemeral',
      text: ':warning: kproxy cannot reach its queue (Redis) right now; nothing was started. Try again in a minute.',
    });
  }, 60_000);
});
