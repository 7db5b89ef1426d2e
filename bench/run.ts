/**
 * `npm run bench`: measures offline diagnosis on a generated 5,000-node bundle (and on
 * the example bundles), each run in a fresh process. Prints a table and writes
 * bench/results.json so runs can be compared over time. Nothing here asserts a time.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type LargeBundleSpec, writeLargeBundle } from './large-bundle.js';
import { resultsFile } from './support.js';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const work = path.join(root, 'bench', '.work');
const runs = Number(process.env.BENCH_RUNS ?? 5);

/** 5,000 nodes × (8 application pods + kube-proxy + aws-node) = 50,000 pods; 10,000 Services. */
const large: LargeBundleSpec = {
  nodes: 5000,
  podsPerNode: 8,
  services: 10_000,
  namespaces: 100,
  capturedNodes: 3,
};

interface Sample {
  loadMs: number;
  diagnoseMs: number;
  totalMs: number;
  peakRssMiB: number;
  rootCause: string;
}

async function ensureLargeBundle(
  spec: LargeBundleSpec = large,
): Promise<{ dir: string; files: number; bytes: number }> {
  const dir = path.join(work, `large-${spec.nodes}n-${spec.podsPerNode}p-${spec.services}s`);
  const marker = path.join(dir, '.complete.json');
  try {
    return { dir, ...(JSON.parse(await readFile(marker, 'utf8')) as { files: number; bytes: number }) };
  } catch {
    process.stderr.write(`generating ${dir} …\n`);
    const written = await writeLargeBundle(dir, spec);
    await writeFile(marker, JSON.stringify(written));
    return { dir, ...written };
  }
}

async function measure(bundle: string, mode = ''): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    const { stdout } = await exec(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'bench', 'diagnose-once.ts'), bundle, mode],
      { cwd: root, maxBuffer: 1 << 20 },
    );
    samples.push(JSON.parse(stdout) as Sample);
  }
  return samples;
}

function summary(samples: Sample[]) {
  const sorted = (k: keyof Sample) => samples.map((s) => s[k] as number).sort((a, b) => a - b);
  const median = (k: keyof Sample) => sorted(k)[Math.floor(samples.length / 2)] as number;
  const max = (k: keyof Sample) => sorted(k).at(-1) as number;
  return {
    runs: samples.length,
    medianTotalMs: median('totalMs'),
    maxTotalMs: max('totalMs'),
    medianLoadMs: median('loadMs'),
    medianDiagnoseMs: median('diagnoseMs'),
    maxPeakRssMiB: max('peakRssMiB'),
    rootCause: samples[0]?.rootCause,
  };
}

interface LiveSample {
  ms: number;
  requests: number;
  bytes: number;
  rootCause: string;
  peakRssMiB: number;
}

/**
 * The last Service of the first namespace: it has backends at every size (the generator
 * spreads a namespace's pods over its Services in order, so with 2,000 Services on 100
 * nodes the first ones select none).
 */
const liveTarget = 'svc-00099';

/** Serves a bundle from a separate process, runs live diagnoses against it, stops it. */
async function measureLive(bundleDir: string, nodeName: string, captures: string): Promise<LiveSample[]> {
  const kubeconfig = path.join(work, `kubeconfig-${path.basename(bundleDir)}`);
  const server = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(root, 'src', 'cli', 'main.ts'),
      'serve-bundle',
      bundleDir,
      '--kubeconfig-out',
      kubeconfig,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) =>
    server.stdout.on('data', (chunk: Buffer) => String(chunk).includes('kubeconfig:') && resolve()),
  );
  const once = async () => {
    const { stdout } = await exec(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(root, 'bench', 'live-once.ts'),
        kubeconfig,
        'ns-000',
        liveTarget,
        nodeName,
        captures,
      ],
      { cwd: root, maxBuffer: 1 << 20 },
    );
    return JSON.parse(stdout) as LiveSample;
  };
  try {
    await once(); // warm-up: the server parses the bundle files on first use
    const samples: LiveSample[] = [];
    for (let i = 0; i < runs; i++) samples.push(await once());
    return samples;
  } finally {
    server.kill('SIGTERM');
  }
}

function liveSummary(samples: LiveSample[]) {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  return {
    runs: samples.length,
    medianMs: ms[Math.floor(ms.length / 2)],
    maxMs: ms.at(-1),
    requests: samples[0]?.requests,
    kib: Math.round((samples[0]?.bytes ?? 0) / 1024),
    maxPeakRssMiB: Math.max(...samples.map((x) => x.peakRssMiB)),
    rootCause: samples[0]?.rootCause,
  };
}

const bundle = await ensureLargeBundle();
const nodeDir = path.join(bundle.dir, 'nodes', 'ip-10-8-0-1.ec2.internal');
const iptablesBytes = (await stat(path.join(nodeDir, 'iptables-save.txt'))).size;
const results = {
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  },
  largeBundle: {
    ...large,
    pods: large.nodes * (large.podsPerNode + 2) + 2,
    files: bundle.files,
    mebibytes: Math.round(bundle.bytes / 2 ** 20),
    iptablesSaveMiB: Math.round(iptablesBytes / 2 ** 20),
  },
  offline: {
    example: summary(await measure(path.join(root, 'examples', 'bundles', 'stale-endpoints'))),
    largeServiceScoped: summary(await measure(bundle.dir)),
    largeClusterWide: summary(await measure(bundle.dir, 'cluster-wide')),
  },
};
/**
 * The live path: the same Service-scoped diagnosis on 100, 1,000 and 5,000 nodes (10 pods
 * per node: 8 application pods, kube-proxy, aws-node; 2,000+ Services).
 */
const sized = async (nodes: number, services: number) =>
  ensureLargeBundle({
    nodes,
    podsPerNode: 8,
    services,
    namespaces: Math.max(20, services / 100),
    capturedNodes: 3,
  });
const firstNode = 'ip-10-8-0-1.ec2.internal';
const live: Record<
  string,
  { api: ReturnType<typeof liveSummary>; withExecCaptures: ReturnType<typeof liveSummary> }
> = {};
for (const [name, dir] of [
  ['nodes100', (await sized(100, 2000)).dir],
  ['nodes1000', (await sized(1000, 2000)).dir],
  ['nodes5000', bundle.dir],
] as const) {
  live[name] = {
    api: liveSummary(await measureLive(dir, firstNode, 'off')),
    withExecCaptures: liveSummary(await measureLive(dir, firstNode, 'exec')),
  };
}
Object.assign(results, { live });
// Merged: the other benchmarks (ack latency, storms) keep their entries.
const previous = JSON.parse(await readFile(resultsFile, 'utf8').catch(() => '{}')) as Record<string, unknown>;
await writeFile(resultsFile, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);

const rows = Object.entries(results.offline).map(
  ([name, r]) =>
    `| ${name} | ${r.runs} | ${r.medianTotalMs} | ${r.maxTotalMs} | ${r.medianLoadMs} | ${r.medianDiagnoseMs} | ${r.maxPeakRssMiB} | ${r.rootCause} |`,
);
console.log(
  `Large bundle: ${large.nodes} nodes, ${results.largeBundle.pods} pods, ${large.services} Services, ${results.largeBundle.mebibytes} MiB in ${bundle.files} files (iptables-save ${results.largeBundle.iptablesSaveMiB} MiB per captured node)`,
);
console.log(
  `Machine: ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.memoryGiB} GiB, Node ${results.machine.node}\n`,
);
console.log('| scenario | runs | median ms | max ms | load ms | diagnose ms | peak RSS MiB | root cause |');
console.log('|---|---|---|---|---|---|---|---|');
console.log(rows.join('\n'));
console.log(
  `\nLive Service-scoped diagnosis (ns-000/${liveTarget} on one node) through the test API server:\n`,
);
console.log(
  '| cluster | captures | runs | median ms | max ms | API requests | KiB read | peak RSS MiB | root cause |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const [size, byMode] of Object.entries(live)) {
  for (const [mode, r] of Object.entries(byMode))
    console.log(
      `| ${size} | ${mode === 'api' ? 'off' : 'exec'} | ${r.runs} | ${r.medianMs} | ${r.maxMs} | ${r.requests} | ${r.kib} | ${r.maxPeakRssMiB} | ${r.rootCause} |`,
    );
}
