/**
 * Slack rate-limit storm: 50 diagnoses requested at once in 5 channels while the fake Slack
 * answers every chat.postMessage and chat.update with 429 (Retry-After: 5) for the first
 * 30 s, and afterwards enforces about one message per second per channel (burst 3), as
 * Slack does. Through the real entry point (bot + workers), real Redis, the test API server.
 * Expect: every thread parent and every report, once each, parents before their replies.
 * Prints JSON and records bench/results.json `slackStorm`.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startAll } from '../test/helpers/entry.js';
import { FakeSlack } from '../test/helpers/fake-slack.js';
import { serve, servedClusterYaml } from '../test/helpers/live.js';
import { postCommand } from '../test/helpers/slack-requests.js';
import { finish, startRedis } from './support.js';

const diagnoses = Number(process.env.STORM_DIAGNOSES ?? 50);
const outageMs = Number(process.env.STORM_OUTAGE_MS ?? 30_000);
const channels = Array.from({ length: 5 }, (_, i) => `C0LIMIT${String(i).padStart(4, '0')}`);

const redis = await startRedis();
const slack = new FakeSlack();
await slack.start();
const api = await serve(path.resolve(import.meta.dirname, '..', 'examples', 'bundles', 'healthy'));
const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-slack-storm-'));
const config = path.join(dir, 'kproxy.yaml');
await writeFile(
  config,
  [
    ...servedClusterYaml(api, channels),
    'rateLimits: { perUser: { max: 100, windowSeconds: 60 }, perChannel: { max: 100, windowSeconds: 60 } }',
    'worker: { concurrency: 8, timeoutSeconds: 120 }',
  ].join('\n'),
);
const { running, url: botUrl } = await startAll(slack, redis.url, config);

const started = Date.now();
slack.rateLimitWindow = { until: started + outageMs, method: /^chat\.(postMessage|update)$/, retryAfter: 5 };
slack.perChannelLimit = { perSecond: 1, burst: 3 };
const acks = await Promise.all(
  Array.from({ length: diagnoses }, (_, i) =>
    postCommand(botUrl, `diagnose prod-east app/svc-${String(i).padStart(3, '0')}`, {
      channel: channels[i % channels.length] as string,
      user: `U0STORM${String(i).padStart(4, '0')}`,
    }),
  ),
);
const parents = () => slack.messages.filter((m) => !m.thread_ts);
const deadline = Date.now() + 15 * 60_000;
while ((parents().length < diagnoses || slack.reports().length < diagnoses) && Date.now() < deadline)
  await new Promise((r) => setTimeout(r, 250));
const completedMs = Date.now() - started;
await new Promise((r) => setTimeout(r, 2000)); // anything late or duplicated would show now

const reportsPerThread = new Map<string, number>();
for (const r of slack.reports())
  reportsPerThread.set(r.thread_ts ?? '', (reportsPerThread.get(r.thread_ts ?? '') ?? 0) + 1);
const byMethod: Record<string, number> = {};
for (const c of slack.calls) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
const parentTs = new Set(parents().map((p) => p.ts));
const result = {
  diagnoses,
  channels: channels.length,
  outageMs,
  acksWithin3s: acks.filter((a) => a.status === 200 && a.ms < 3000).length,
  completedMs,
  threadParents: parents().length,
  reports: slack.reports().length,
  duplicateReports: [...reportsPerThread.values()].filter((n) => n > 1).length,
  repliesOutsideAThread: slack.messages.filter((m) => m.thread_ts && !parentTs.has(m.thread_ts)).length,
  slackCalls: slack.calls.length,
  callsByMethod: byMethod,
  answered429InOutage: slack.windowRateLimited,
  answered429ByChannelLimit: slack.rateLimited.length,
  nothingLost: parents().length === diagnoses && slack.reports().length === diagnoses,
};
await finish('slackStorm', result, [
  () => running.stop(),
  () => api.stop(),
  () => slack.stop(),
  () => redis.stop(),
  () => rm(dir, { recursive: true, force: true }),
]);
