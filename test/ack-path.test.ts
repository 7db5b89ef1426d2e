/**
 * The slash-command ack path (issue 16): one Redis round trip before the ack, through the
 * real Bolt HTTP receiver on the test run's redis-server, and the work after the ack (the
 * thread's parent, the Redis keys, the job) started off the request path, its failures
 * still told in the channel.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createBot, listenBot } from '../src/bot/app.js';
import { PendingStarts } from '../src/bot/start-diagnosis.js';
import { parseConfig, parseEnv } from '../src/config/config.js';
import { createLogger } from '../src/log.js';
import { Metrics, metricHelp } from '../src/metrics.js';
import { diagnoseQueueName } from '../src/queue/jobs.js';
import { SlackPoster } from '../src/slack/poster.js';
import { FakeSlack } from './helpers/fake-slack.js';
import { flushRedis } from './helpers/redis-server.js';
import { postCommand, signingSecret } from './helpers/slack-requests.js';
import { waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const cleanups: (() => Promise<unknown>)[] = [];
beforeEach(() => flushRedis(redisUrl));
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every command the bot's own connection sends, by name; commands after the first wait for `release`. */
function instrumented(redis: Redis) {
  const sent: string[] = [];
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => {
    release = r;
  });
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: Parameters<typeof send>[0]) => {
    sent.push(command.name);
    if (sent.length === 1) return send(command);
    void released.then(() => send(command));
    return command.promise;
  }) as typeof redis.sendCommand;
  return { sent, release };
}

async function startBot() {
  const slack = new FakeSlack();
  await slack.start();
  cleanups.push(() => slack.stop());
  const config = parseConfig(
    'clusters:\n  - name: prod-east\n    inCluster: true\n    channels: [C0INCIDENT1]\n',
    'test.yaml',
  );
  const env = parseEnv(
    {
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: slack.apiUrl,
      REDIS_URL: redisUrl,
      PORT: '0',
    },
    'bot',
  );
  const shared = new Redis(redisUrl);
  // As the bot's connection in `start()`: fail fast, no offline queue.
  const botRedis = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  await new Promise((r) => botRedis.once('ready', r));
  const prefix = `test-${randomUUID()}`;
  const queue = new Queue(diagnoseQueueName, { connection: new Redis(redisUrl), prefix });
  const poster = new SlackPoster(shared, { token: env.SLACK_BOT_TOKEN, slackApiUrl: env.SLACK_API_URL });
  const pending = new PendingStarts();
  const logger = createLogger('test', () => undefined);
  const app = createBot({
    config,
    env,
    redis: botRedis,
    queue,
    poster,
    logger,
    metrics: new Metrics(metricHelp),
    pending,
  });
  const url = `http://127.0.0.1:${await listenBot(app, env)}`;
  cleanups.push(async () => {
    await app.stop();
    await queue.close();
    botRedis.disconnect();
    shared.disconnect();
  });
  return { slack, url, queue, botRedis, pending };
}

describe('the ack path', () => {
  it('acks after ONE Redis round trip (dedupe and both rate limits in one script call), then starts', async () => {
    const s = await startBot();
    const { sent, release } = instrumented(s.botRedis);
    // Anything the bot sent after its first command is held until the ack arrived: an ack that
    // needed a second round trip would never come.
    const answer = await postCommand(s.url, 'diagnose prod-east app/web-api');
    expect(answer).toMatchObject({ status: 200, body: '' });
    expect(sent[0]).toBe('eval');
    // Dedupe and limits were that one call: the keys are there.
    const probe = new Redis(redisUrl);
    cleanups.push(() => probe.quit());
    expect(await probe.keys('kproxy:delivery:*')).toHaveLength(1);
    expect(await probe.get('kproxy:rate:user:U0ONCALL01')).toBe('1');
    expect(await probe.get('kproxy:rate:channel:C0INCIDENT1')).toBe('1');
    release();
    // The start runs after the ack: the thread's parent and the queued job.
    await waitFor('the parent', () => s.slack.messages.find((m) => !m.thread_ts));
    await waitFor('the job', async () => (await s.queue.getJobCounts()).waiting === 1);
  });

  it('a failure after the ack is told in the channel (Slack refuses the parent: not_in_channel)', async () => {
    const s = await startBot();
    s.slack.refuse(/^chat\.postMessage$/, 'not_in_channel', 1);
    const user = 'U0ONCALL01';
    const answer = await postCommand(s.url, 'diagnose prod-east app/web-api', {
      user,
      responseUrl: `${s.slack.url}/response/${user}`,
    });
    expect(answer).toMatchObject({ status: 200, body: '' });
    const told = await waitFor('the user to hear why', () =>
      s.slack.responses.find((r) => r.path === `/response/${user}`),
    );
    expect(told.body).toMatchObject({ response_type: 'ephemeral' });
    expect(String(told.body.text)).toMatch(
      /^:x: kproxy could not start the diagnosis: .*not_in_channel.*Nothing is running; run the command again\.$/,
    );
    expect((await s.queue.getJobCounts()).waiting).toBe(0);
    // The target is free again: the same command, once Slack accepts, starts.
    await postCommand(s.url, 'diagnose prod-east app/web-api', { user });
    await waitFor('the job', async () => (await s.queue.getJobCounts()).waiting === 1);
  });

  it('a redelivery (same trigger id) is acked without a second start or a second rate-limit point', async () => {
    const s = await startBot();
    for (let i = 0; i < 3; i++)
      expect(
        await postCommand(s.url, 'diagnose prod-east app/web-api', { triggerId: '1.2.dup' }),
      ).toMatchObject({ status: 200, body: '' });
    await waitFor('the job', async () => (await s.queue.getJobCounts()).waiting === 1);
    await waitFor('the starts to settle', () => s.pending.size === 0);
    const probe = new Redis(redisUrl);
    cleanups.push(() => probe.quit());
    expect(await probe.get('kproxy:rate:user:U0ONCALL01')).toBe('1');
    expect(s.slack.messages.filter((m) => !m.thread_ts)).toHaveLength(1);
  });
});
