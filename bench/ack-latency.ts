/**
 * Slash-command ack latency on the HTTP receiver: kproxy (bot + worker, `src/start.ts`) runs
 * in its own process on a private redis-server, diagnosing against the test API server,
 * posting to a fake Slack. This process sends signed `/kproxy diagnose` requests, c at a
 * time (c = 1, 50, 200), each for a new target (the heaviest ack path: admission, dedupe,
 * rate limits, enqueue), and times each HTTP answer. Slack gives an app 3 s.
 * Prints a table and records bench/results.json `ackLatency`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { FakeSlack } from '../test/helpers/fake-slack.js';
import { serve, servedClusterYaml } from '../test/helpers/live.js';
import { postCommand, signingSecret } from '../test/helpers/slack-requests.js';
import { freePort, percentile, recordResult, startRedis } from './support.js';

const root = path.resolve(import.meta.dirname, '..');
const levels = [
  { concurrency: 1, rounds: 200 },
  { concurrency: 50, rounds: 6 },
  { concurrency: 200, rounds: 3 },
];

const channels = Array.from({ length: 50 }, (_, i) => `C0BENCH${String(i).padStart(4, '0')}`);
const redis = await startRedis();
const slack = new FakeSlack();
await slack.start();
const api = await serve(path.join(root, 'examples', 'bundles', 'healthy'));
const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-ack-'));
const config = path.join(dir, 'kproxy.yaml');
await writeFile(
  config,
  [
    ...servedClusterYaml(api, channels),
    'rateLimits: { perUser: { max: 100, windowSeconds: 60 }, perChannel: { max: 100000, windowSeconds: 60 } }',
    'worker: { concurrency: 4, timeoutSeconds: 120 }',
  ].join('\n'),
);
const port = await freePort();
const kproxy = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'start.ts')], {
  cwd: root,
  env: {
    ...process.env,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.apiUrl,
    REDIS_URL: redis.url,
    KPROXY_CONFIG: config,
    PORT: String(port),
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
kproxy.stdout.resume();
const botUrl = `http://127.0.0.1:${port}`;
for (;;) {
  const ok = await fetch(`${botUrl}/readyz`).then(
    (r) => r.ok,
    () => false,
  );
  if (ok) break;
  await new Promise((r) => setTimeout(r, 100));
}

let n = 0;
const rows: Record<string, unknown>[] = [];
for (const { concurrency, rounds } of levels) {
  const latencies: number[] = [];
  let non200 = 0;
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        const i = n++;
        const t0 = performance.now();
        const res = await postCommand(botUrl, `diagnose prod-east ns-${i % 50}/svc-${i}`, {
          user: `U0BENCH${String(i % 5000).padStart(4, '0')}`,
          channel: channels[i % channels.length] as string,
        });
        latencies.push(performance.now() - t0);
        if (res.status !== 200 || res.body !== '') non200++;
      }),
    );
  }
  latencies.sort((a, b) => a - b);
  rows.push({
    concurrency,
    requests: latencies.length,
    p50Ms: Math.round(percentile(latencies, 50)),
    p99Ms: Math.round(percentile(latencies, 99)),
    maxMs: Math.round(latencies.at(-1) ?? 0),
    over3s: latencies.filter((l) => l >= 3000).length,
    notAccepted: non200,
  });
}
// The worker keeps diagnosing what was queued; Slack pacing (about 1 post per second per
// channel) makes draining take minutes, which is not what this measures.
const result = { levels: rows, diagnosesQueued: n, reportsPostedMeanwhile: slack.reports().length };
console.log('| concurrent requests | requests | p50 ms | p99 ms | max ms | ≥ 3 s | not accepted |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.concurrency} | ${r.requests} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.over3s} | ${r.notAccepted} |`,
  );
console.log(
  `\n${n} diagnoses queued; ${result.reportsPostedMeanwhile} reports posted while the acks were measured.`,
);
await recordResult('ackLatency', result);
kproxy.kill('SIGTERM');
await new Promise((r) => kproxy.once('exit', r));
await api.stop();
await slack.stop();
await redis.stop();
await rm(dir, { recursive: true, force: true });
process.exit(0);
