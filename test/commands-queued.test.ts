/**
 * Every acknowledged command is queued, or its thread (or its user) is told why not
 * (issue 14, item 6), through the real entry point with the bot's fail-fast Redis settings:
 * Redis stalling right after the thread's parent is posted, and SIGTERM while a command
 * still waits for a post slot.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { bundlesDir } from './helpers/bundles.js';
import { startAll } from './helpers/entry.js';
import { FakeSlack } from './helpers/fake-slack.js';
import { serve, servedClusterYaml } from './helpers/live.js';
import { flushRedis } from './helpers/redis-server.js';
import { postCommand } from './helpers/slack-requests.js';
import { waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const cleanups: (() => Promise<unknown>)[] = [];
const user = 'U0ONCALL01';

beforeEach(async () => {
  await flushRedis(redisUrl);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startBot() {
  const slack = new FakeSlack();
  await slack.start();
  cleanups.push(() => slack.stop());
  const api = await serve(path.join(bundlesDir, 'healthy'));
  cleanups.push(() => api.stop());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-acked-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'kproxy.yaml');
  await writeFile(config, servedClusterYaml(api, ['C0INCIDENT1'], 'debug-pod').join('\n'));
  const started = await startAll(slack, redisUrl, config);
  let stopped = false;
  cleanups.push(() => (stopped ? Promise.resolve() : started.running.stop()));
  return {
    slack,
    ...started,
    stop: async () => {
      stopped = true;
      await started.running.stop();
    },
  };
}

const command = (url: string, slack: FakeSlack) =>
  postCommand(url, 'diagnose prod-east app/web-api', { user, responseUrl: `${slack.url}/response/${user}` });

describe('acknowledged commands', () => {
  it('Redis stalling after the parent is posted: the thread says the diagnosis could not start, and why', async () => {
    const { slack, url } = await startBot();
    // Redis stops answering for 12 s the moment Slack takes the parent (before it answers):
    // every Redis step after the post meets the stall. (The post itself needs Redis first,
    // for its pace token, so the stall cannot begin earlier.)
    const pauser = new Redis(redisUrl);
    cleanups.push(() => pauser.quit());
    let paused = false;
    slack.beforeAnswer = async (method) => {
      if (method !== 'chat.postMessage' || paused) return;
      paused = true;
      await pauser.call('CLIENT', 'PAUSE', '12000', 'ALL');
    };
    expect((await command(url, slack)).status).toBe(200);
    const parent = await waitFor('the parent', () => slack.messages.find((m) => !m.thread_ts));
    const told = await waitFor(
      'the thread to hear what happened',
      () =>
        slack.messages.find(
          (m) => m.thread_ts === parent.ts && m.text?.startsWith(':x: kproxy could not start'),
        ) ?? slack.reports().find((m) => m.thread_ts === parent.ts),
      40_000,
    );
    expect(told.text).toMatch(
      /^:x: kproxy could not start this diagnosis: .*timed out.*run the command again\.$/i,
    );
  }, 60_000);

  it('SIGTERM while a command waits for its post slot: the user is told it was not started', async () => {
    const { slack, url, stop } = await startBot();
    // Slack holds the parent's post for 15 s, longer than shutdown waits for it.
    slack.fail(/^chat\.postMessage$/, 429, 1, 15);
    expect((await command(url, slack)).status).toBe(200);
    await waitFor('the first post attempt', () => slack.callsOf('chat.postMessage').length >= 1);
    await stop();
    const told = slack.responses
      .filter((r) => r.path === `/response/${user}`)
      .map((r) => String(r.body.text));
    expect(told).toContain(
      ':warning: kproxy is restarting and could not start this diagnosis; run the command again.',
    );
  }, 60_000);
});
