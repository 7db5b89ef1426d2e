/**
 * Slash-command ack latency, kproxy beside its floor in the same run (issue 16). kproxy
 * (`src/start.ts`: bot + workers in one process, the diagnosis in worker threads) and a
 * bare Bolt app on the same receiver whose handler only acks (bench/bare-bolt.ts) each run
 * in their own process; one private redis-server, the test API server as the cluster, a
 * fake Slack. This process sends signed `/kproxy diagnose` requests, c at a time (c = 1,
 * 50, 200), each for a new target (kproxy's heaviest ack path: authorization, the one
 * admission script call, then the start after the ack), to both apps in interleaved rounds
 * (the order alternating), and times each HTTP answer. Slack gives an app 3 s.
 * Prints a table and records bench/results.json `ackLatency`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { FakeSlack } from '../test/helpers/fake-slack.js';
import { postCommand } from '../test/helpers/slack-requests.js';
import { machineLoad, type Running, serveBundle, startBareBolt, startKproxy } from './processes.js';
import { percentile, recordResult, startRedis } from './support.js';

const root = path.resolve(import.meta.dirname, '..');
// BENCH_SMOKE=1: one short round per level (does the benchmark run at all?), not recorded.
const smoke = process.env.BENCH_SMOKE === '1';
const levels = [
  { concurrency: 1, rounds: smoke ? 5 : 100 },
  { concurrency: 50, rounds: smoke ? 1 : 6 },
  { concurrency: 200, rounds: smoke ? 1 : 6 },
];
const channels = Array.from({ length: 50 }, (_, i) => `C0BENCH${String(i).padStart(4, '0')}`);

const redis = await startRedis();
const slack = new FakeSlack();
await slack.start();
const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-ack-'));
// The cluster in a process of its own: this one only sends the requests (and is the fake Slack).
const api = await serveBundle(path.join(root, 'examples', 'bundles', 'healthy'), dir);
const config = path.join(dir, 'kproxy.yaml');
await writeFile(
  config,
  [
    'clusters:',
    '  - name: prod-east',
    `    kubeconfig: { path: ${api.kubeconfig}, context: bundle }`,
    `    channels: [${channels.join(', ')}]`,
    'rateLimits: { perUser: { max: 100, windowSeconds: 60 }, perChannel: { max: 100000, windowSeconds: 60 } }',
    'worker: { concurrency: 4, timeoutSeconds: 120 }',
  ].join('\n'),
);
const loadBefore = machineLoad();
const apps = {
  kproxy: await startKproxy({ redisUrl: redis.url, slackApiUrl: slack.apiUrl, config }),
  bareBolt: await startBareBolt(slack.apiUrl),
};
type Name = keyof typeof apps;

let n = 0;
/** A few answers other than an empty 200, to say what they were. */
const refusals: string[] = [];
/** One round: c requests at once to one app; their latencies, and answers other than an empty 200. */
async function round(app: Running, concurrency: number): Promise<{ ms: number[]; bad: number }> {
  const ms: number[] = [];
  let bad = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const i = n++;
      const t0 = performance.now();
      const res = await postCommand(app.url, `diagnose prod-east ns-${i % 50}/svc-${i}`, {
        user: `U0BENCH${String(i % 5000).padStart(4, '0')}`,
        channel: channels[i % channels.length] as string,
      });
      ms.push(performance.now() - t0);
      if (res.status !== 200 || res.body !== '') {
        bad++;
        if (refusals.length < 3) refusals.push(`${res.status} ${res.body.slice(0, 200)}`);
      }
    }),
  );
  return { ms, bad };
}

const stats = (sorted: number[]) => ({
  requests: sorted.length,
  p50Ms: Math.round(percentile(sorted, 50)),
  p99Ms: Math.round(percentile(sorted, 99)),
  maxMs: Math.round(sorted.at(-1) ?? 0),
  over3s: sorted.filter((l) => l >= 3000).length,
});
const ratio = (a: number, b: number) => Math.round((a / Math.max(1, b)) * 100) / 100;

// Warm-up (modules, JIT, connections, the diagnosis threads), not counted.
for (const name of ['kproxy', 'bareBolt'] as Name[]) await round(apps[name], 50);

const rows: Record<string, unknown>[] = [];
for (const { concurrency, rounds } of levels) {
  const samples: Record<Name, number[]> = { kproxy: [], bareBolt: [] };
  let notAccepted = 0;
  for (let r = 0; r < rounds; r++) {
    const order: Name[] = r % 2 === 0 ? ['kproxy', 'bareBolt'] : ['bareBolt', 'kproxy'];
    for (const name of order) {
      const { ms, bad } = await round(apps[name], concurrency);
      samples[name].push(...ms);
      if (name === 'kproxy') notAccepted += bad;
    }
  }
  const kproxy = stats(samples.kproxy.sort((a, b) => a - b));
  const bareBolt = stats(samples.bareBolt.sort((a, b) => a - b));
  rows.push({
    concurrency,
    kproxy,
    bareBolt,
    ratioP50: ratio(kproxy.p50Ms, bareBolt.p50Ms),
    ratioP99: ratio(kproxy.p99Ms, bareBolt.p99Ms),
    notAccepted,
  });
}
const result = {
  levels: rows,
  diagnosesQueued: n,
  reportsPostedMeanwhile: slack.reports().length,
  notAcceptedAnswers: refusals,
  load: { before: loadBefore, after: machineLoad() },
};
console.log(
  '| concurrent | kproxy p50 / p99 | bare Bolt p50 / p99 | ratio p50 / p99 | ≥ 3 s | not accepted |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows as {
  concurrency: number;
  kproxy: ReturnType<typeof stats>;
  bareBolt: ReturnType<typeof stats>;
  ratioP50: number;
  ratioP99: number;
  notAccepted: number;
}[])
  console.log(
    `| ${r.concurrency} | ${r.kproxy.p50Ms} / ${r.kproxy.p99Ms} ms | ${r.bareBolt.p50Ms} / ${r.bareBolt.p99Ms} ms | ${r.ratioP50}× / ${r.ratioP99}× | ${r.kproxy.over3s} | ${r.notAccepted} |`,
  );
console.log(
  `\nload average (1 min) ${loadBefore.loadAverage1m} → ${result.load.after.loadAverage1m} on ${loadBefore.cpus} CPUs`,
);
if (!smoke) await recordResult('ackLatency', result);
await apps.kproxy.stop();
await apps.bareBolt.stop();
api.stop();
await slack.stop();
await redis.stop();
await rm(dir, { recursive: true, force: true });
process.exit(0);
