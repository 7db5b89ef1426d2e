/**
 * What unauthenticated clients can make the bot do (issue 14, items 11-12), through the real
 * entry point: bodies above a few hundred KB are refused before they are buffered, stalled
 * uploads are cut off in seconds, probes and metrics are served on their own listener (not
 * with the Slack endpoint) and cannot amplify into Slack calls, and the bind address is
 * configurable.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { startAll } from './helpers/entry.js';
import { FakeSlack } from './helpers/fake-slack.js';
import { flushRedis } from './helpers/redis-server.js';
import { sign } from './helpers/slack-requests.js';
import { waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const cleanups: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  await flushRedis(redisUrl);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startBot(env: Record<string, string> = {}) {
  const slack = new FakeSlack();
  await slack.start();
  cleanups.push(() => slack.stop());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-limits-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'kproxy.yaml');
  await writeFile(config, 'clusters:\n  - name: ops\n    inCluster: true\n    channels: [C0INCIDENT1]\n');
  const started = await startAll(slack, redisUrl, config, env);
  cleanups.push(() => started.running.stop());
  return { slack, ...started };
}

describe('the Slack listener', () => {
  it('refuses a 1 MB body with 413 before checking (or buffering) it', async () => {
    const { url } = await startBot();
    const body = `payload=${'a'.repeat(1024 * 1024)}`;
    const res = await fetch(`${url}/slack/events`, { method: 'POST', body, headers: sign(body) });
    expect(res.status).toBe(413);
  });

  it('cuts off a client that stalls in the middle of its body within seconds', async () => {
    const { running } = await startBot();
    const socket = connect(running.port as number, '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.resume();
    socket.write(
      'POST /slack/events HTTP/1.1\r\nHost: kproxy\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200000\r\n\r\npayload=',
    );
    let done = false;
    void closed.then(() => {
      done = true;
    });
    await waitFor('the server to close the stalled connection', () => done, 25_000);
  });

  it('does not serve probes or metrics; its bind address is configurable', async () => {
    // Another listener holds the same port on 127.0.0.1 (as any process on the machine may:
    // ports are per address): the bot bound to 127.0.0.2 starts beside it, and a request to
    // 127.0.0.1 reaches that listener, not the bot.
    const other = createServer((_req, res) => res.end('not the bot'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => other.close(resolve)));
    const port = (other.address() as AddressInfo).port;
    const { running } = await startBot({ BIND_ADDRESS: '127.0.0.2', PORT: String(port) });
    expect(running.port).toBe(port);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('not the bot');
    const bound = `http://127.0.0.2:${running.port}`;
    for (const route of ['/healthz', '/readyz', '/metrics'])
      expect((await fetch(`${bound}${route}`)).status, route).toBe(404);
  });
});

describe('the probe listener', () => {
  it('answers 50 concurrent /readyz with at most one Slack call, and stays ready while Slack rate-limits api.test', async () => {
    const { slack, healthUrl } = await startBot();
    const statuses = await Promise.all(
      Array.from({ length: 50 }, () => fetch(`${healthUrl}/readyz`).then((r) => r.status)),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(slack.callsOf('api.test').length).toBeLessThanOrEqual(1);
    slack.rateLimitWindow = { until: Date.now() + 60_000, method: /^api\.test$/, retryAfter: 30 };
    for (let i = 0; i < 20; i++) expect((await fetch(`${healthUrl}/readyz`)).status).toBe(200);
    expect(slack.callsOf('api.test').length).toBeLessThanOrEqual(1);
    expect((await fetch(`${healthUrl}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${healthUrl}/metrics`)).text()).toContain('kproxy_jobs{state="waiting"}');
  });
});
