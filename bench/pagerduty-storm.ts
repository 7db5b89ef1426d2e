/**
 * PagerDuty storm: 500 `incident.triggered` deliveries within one minute across 20 distinct
 * targets (20 PagerDuty services, each with its own channel), through the real entry point
 * (bot + workers), real Redis, the test API server as the cluster, and a fake Slack that
 * enforces about one message per second per channel (429 with Retry-After beyond a burst
 * of 3). Expect 20 diagnoses, a thread parent for every incident, no message lost.
 * Prints JSON. Needs redis-server on PATH.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { signPagerDuty } from '../src/pagerduty/signature.js';
import { startAll } from '../test/helpers/entry.js';
import { incidentEvent } from '../test/helpers/fake-pagerduty.js';
import { FakeSlack } from '../test/helpers/fake-slack.js';
import { serve, servedClusterYaml } from '../test/helpers/live.js';
import { finish, startRedis } from './support.js';

const deliveries = Number(process.env.STORM_DELIVERIES ?? 500);
const targets = 20;
const windowMs = Number(process.env.STORM_WINDOW_MS ?? 60_000);
const secret = 'storm-secret';

const redis = await startRedis();
const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-storm-'));
const slack = new FakeSlack();
await slack.start();
slack.perChannelLimit = { perSecond: 1, burst: 3 };
const api = await serve(path.resolve(import.meta.dirname, '..', 'examples', 'bundles', 'healthy'));
const channel = (i: number) => `C0STORM${String(i).padStart(4, '0')}`;
const config = path.join(dir, 'kproxy.yaml');
await writeFile(
  config,
  [
    ...servedClusterYaml(
      api,
      Array.from({ length: targets }, (_, i) => channel(i)),
    ),
    'worker: { concurrency: 8, timeoutSeconds: 120 }',
    'pagerduty:',
    '  services:',
    ...Array.from({ length: targets }, (_, i) => [
      `    - id: PSTORM${String(i).padStart(3, '0')}`,
      '      cluster: prod-east',
      `      channel: ${channel(i)}`,
      "      target: { titlePattern: '(?<namespace>[a-z0-9-]+)/(?<service>[a-z0-9-]+) down' }",
    ]).flat(),
  ].join('\n'),
);
const { running, url: botUrl } = await startAll(slack, redis.url, config, {
  PAGERDUTY_WEBHOOK_SECRETS: secret,
});
const url = `${botUrl}/pagerduty/webhook`;

const started = Date.now();
const statuses = new Map<number, number>();
const sends: Promise<void>[] = [];
for (let i = 0; i < deliveries; i++) {
  const t = i % targets;
  const at = started + (i * windowMs) / deliveries;
  await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
  const event = incidentEvent({
    eventType: 'incident.triggered',
    incidentId: `PSTORM${String(i).padStart(5, '0')}`,
    number: 10_000 + i,
    title: `app/svc-${String(t).padStart(2, '0')} down`,
    serviceId: `PSTORM${String(t).padStart(3, '0')}`,
  });
  const raw = JSON.stringify(event);
  sends.push(
    fetch(url, {
      method: 'POST',
      body: raw,
      headers: {
        'content-type': 'application/json',
        'x-webhook-id': `storm-${i}`,
        'x-pagerduty-signature': signPagerDuty(raw, secret),
      },
    }).then((r) => {
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }),
  );
}
await Promise.all(sends);
const deliveredMs = Date.now() - started;

const parents = () => slack.messages.filter((m) => !m.thread_ts).length;
const deadline = Date.now() + 10 * 60_000;
const shared = () => slack.messages.filter((m) => m.text?.startsWith('Same cluster and target')).length;
while (
  (parents() < deliveries || slack.reports().length < targets || shared() < deliveries - targets) &&
  Date.now() < deadline
) {
  await new Promise((r) => setTimeout(r, 200));
}
const doneMs = Date.now() - started;

// The highest number of messages any channel received within one second (Slack allows ~1/s with short bursts).
let peak = 0;
for (let i = 0; i < targets; i++) {
  const times = slack.calls
    .filter((c) => c.method === 'chat.postMessage' && c.params.channel === channel(i))
    .map((c) => c.at);
  for (const t of times) peak = Math.max(peak, times.filter((x) => x >= t && x < t + 1000).length);
}
const result = {
  deliveries,
  targets,
  webhookAnswers: Object.fromEntries(statuses),
  deliveredWithinMs: deliveredMs,
  completedMs: doneMs,
  threadParents: parents(),
  diagnoses: slack.reports().length,
  sharedReplies: shared(),
  slackCalls: slack.calls.length,
  postMessageCalls: slack.callsOf('chat.postMessage').length,
  slack429s: slack.rateLimited.length,
  peakMessagesPerChannelPerSecond: peak,
  nothingLost:
    parents() === deliveries && slack.reports().length === targets && shared() === deliveries - targets,
};
await finish('pagerdutyStorm', result, [
  () => running.stop(),
  () => api.stop(),
  () => slack.stop(),
  () => redis.stop(),
  () => rm(dir, { recursive: true, force: true }),
]);
