/**
 * Command → report in the thread, on a 5,000-node cluster (issue 16): a signed
 * `/kproxy diagnose prod-east ns-000/svc-00099 --node <node>` to kproxy (`src/start.ts`: bot
 * + workers, the diagnosis in a worker thread), the cluster served by the test API server
 * from the generated 5,000-node bundle in a process of its own (node captures off: the
 * API path), timed from the request to the report's chat.postMessage reaching the fake
 * Slack. Beside it, in the same run and interleaved, the same bot with the posting pace off
 * (`KPROXY_SLACK_PACE_MS=0`): the floor. Each run uses a quiet channel and its own node.
 * Prints a table and records bench/results.json `commandToReport`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FakeSlack } from '../test/helpers/fake-slack.js';
import { postCommand } from '../test/helpers/slack-requests.js';
import { type LargeBundleSpec, writeLargeBundle } from './large-bundle.js';
import { machineLoad, type Running, serveBundle, startKproxy } from './processes.js';
import { percentile, recordResult, startRedis } from './support.js';

const root = path.resolve(import.meta.dirname, '..');
// BENCH_SMOKE=1: one run each (does the benchmark run at all?), not recorded.
const smoke = process.env.BENCH_SMOKE === '1';
const runs = smoke ? 1 : Number(process.env.BENCH_RUNS ?? 10);
const spec: LargeBundleSpec = {
  nodes: 5000,
  podsPerNode: 8,
  services: 10_000,
  namespaces: 100,
  capturedNodes: 3,
};
const nodeName = (i: number) => `ip-10-8-0-${i + 1}.ec2.internal`;

/** The bundle bench/run.ts generates (same directory and marker: generated once). */
async function largeBundle(): Promise<string> {
  const dir = path.join(
    root,
    'bench',
    '.work',
    `large-${spec.nodes}n-${spec.podsPerNode}p-${spec.services}s`,
  );
  const marker = path.join(dir, '.complete.json');
  if (!(await readFile(marker, 'utf8').catch(() => undefined))) {
    process.stderr.write(`generating ${dir} …\n`);
    await writeFile(marker, JSON.stringify(await writeLargeBundle(dir, spec)));
  }
  return dir;
}

const work = await mkdtemp(path.join(os.tmpdir(), 'kproxy-report-'));
const cluster = await serveBundle(await largeBundle(), work);
const slack = new FakeSlack();
await slack.start();
const channelsOf = (prefix: string) =>
  Array.from({ length: runs + 2 }, (_, i) => `C0${prefix}${String(i).padStart(4, '0')}`);
const channels = { paced: channelsOf('PACED'), unpaced: channelsOf('UNPACE') };
const config = path.join(work, 'kproxy.yaml');
await writeFile(
  config,
  [
    'clusters:',
    '  - name: prod-east',
    `    kubeconfig: { path: ${cluster.kubeconfig}, context: bundle }`,
    `    channels: [${[...channels.paced, ...channels.unpaced].join(', ')}]`,
    '    nodeCaptures: off',
    'rateLimits: { perUser: { max: 1000, windowSeconds: 60 }, perChannel: { max: 1000, windowSeconds: 60 } }',
  ].join('\n'),
);
const redises = [await startRedis(), await startRedis()];
const loadBefore = machineLoad();
const bots: Record<'paced' | 'unpaced', Running> = {
  paced: await startKproxy({ redisUrl: redises[0]?.url as string, slackApiUrl: slack.apiUrl, config }),
  unpaced: await startKproxy({
    redisUrl: redises[1]?.url as string,
    slackApiUrl: slack.apiUrl,
    config,
    env: { KPROXY_SLACK_PACE_MS: '0' },
  }),
};

/** One command in a quiet channel: ms to the parent and to the report, and the root cause. */
async function once(name: 'paced' | 'unpaced', i: number) {
  const channel = channels[name][i] as string;
  const t0 = Date.now();
  await postCommand(bots[name].url, `diagnose prod-east ns-000/svc-00099 --node ${nodeName(i)}`, {
    channel,
    user: 'U0BENCH0001',
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const report = slack.calls.find(
      (c) =>
        c.method === 'chat.postMessage' &&
        c.params.channel === channel &&
        (c.params.metadata as { event_type?: string } | undefined)?.event_type === 'kproxy_diagnosis',
    );
    const failed = slack.messages.find((m) => m.channel === channel && m.text?.startsWith(':x:'));
    if (failed) throw new Error(`${name}: ${failed.text}`);
    if (report) {
      const parent = slack.calls.find((c) => c.method === 'chat.postMessage' && c.params.channel === channel);
      const meta = report.params.metadata as { event_payload?: { root_cause?: string } };
      return {
        parentMs: (parent?.at ?? t0) - t0,
        reportMs: report.at - t0,
        rootCause: meta.event_payload?.root_cause,
      };
    }
    if (Date.now() > deadline) throw new Error(`${name}: no report in ${channel}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

// Warm-up: the API server reads the bundle, the diagnosis threads load and run once.
for (let i = 0; i < 2; i++) for (const name of ['paced', 'unpaced'] as const) await once(name, runs + i);
const samples = { paced: [] as number[], unpaced: [] as number[] };
const parents = { paced: [] as number[], unpaced: [] as number[] };
let rootCause: string | undefined;
for (let i = 0; i < runs; i++) {
  for (const name of i % 2 === 0 ? (['paced', 'unpaced'] as const) : (['unpaced', 'paced'] as const)) {
    const r = await once(name, i);
    samples[name].push(r.reportMs);
    parents[name].push(r.parentMs);
    rootCause = r.rootCause;
    await new Promise((r) => setTimeout(r, 500)); // the job finishes its parent update
  }
}
const summary = (ms: number[], parent: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    runs: ms.length,
    medianMs: Math.round(percentile(sorted, 50)),
    maxMs: Math.round(sorted.at(-1) ?? 0),
    medianParentMs: Math.round(
      percentile(
        [...parent].sort((a, b) => a - b),
        50,
      ),
    ),
  };
};
const paced = summary(samples.paced, parents.paced);
const unpaced = summary(samples.unpaced, parents.unpaced);
const result = {
  cluster: { nodes: spec.nodes, services: spec.services, pods: spec.nodes * (spec.podsPerNode + 2) + 2 },
  command: 'diagnose prod-east ns-000/svc-00099 --node <a node per run> (node captures off)',
  kproxy: paced,
  paceOff: unpaced,
  ratioMedian: Math.round((paced.medianMs / Math.max(1, unpaced.medianMs)) * 100) / 100,
  rootCause,
  load: { before: loadBefore, after: machineLoad() },
};
console.log('| | runs | report after (median) | max | parent after (median) |');
console.log('|---|---|---|---|---|');
console.log(
  `| kproxy | ${paced.runs} | ${paced.medianMs} ms | ${paced.maxMs} ms | ${paced.medianParentMs} ms |`,
);
console.log(
  `| pace off | ${unpaced.runs} | ${unpaced.medianMs} ms | ${unpaced.maxMs} ms | ${unpaced.medianParentMs} ms |`,
);
console.log(
  `\nratio ${result.ratioMedian}×; load average (1 min) ${loadBefore.loadAverage1m} → ${result.load.after.loadAverage1m}`,
);
if (!smoke) await recordResult('commandToReport', result);
await bots.paced.stop();
await bots.unpaced.stop();
cluster.stop();
await slack.stop();
for (const r of redises) await r?.stop();
await rm(work, { recursive: true, force: true });
process.exit(0);
