/**
 * `npm run bench`: measures offline diagnosis on a generated 5,000-node bundle (and on
 * the example bundles), each run in a fresh process, beside the parse-only floor; the live
 * API cost by cluster size; worker CPU per diagnosis (bench/volume.ts). Prints tables and
 * writes bench/results.json so runs can be compared over time. Nothing here asserts a time.
 */
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type LargeBundleSpec, writeLargeBundle } from './large-bundle.js';
import { resultsFile } from './support.js';
import { type LiveCost, liveCost, offlineVersusFloor, serveBundle, workerCpu } from './volume.js';

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
    loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10),
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
    wholeProcess: await offlineVersusFloor(bundle.dir, runs),
  },
};
/**
 * Live API cost by cluster size: a Service with 4 pods on nodes 0–3 in a 100-node cluster
 * (200 Services) and in the 5,000-node one (10,000 Services), with and without `--node`,
 * node captures off (the API alone) and, with `--node`, exec captures too.
 */
const small = await ensureLargeBundle({
  nodes: 100,
  podsPerNode: 8,
  services: 200,
  namespaces: 20,
  capturedNodes: 3,
});
const liveTarget = { namespace: 'ns-000', service: 'svc-00000' };
const firstNode = 'ip-10-8-0-1.ec2.internal';
const live: Record<string, Record<string, LiveCost>> = {};
let worker: Awaited<ReturnType<typeof workerCpu>> | undefined;
for (const [name, dir] of [
  ['nodes100', small.dir],
  ['nodes5000', bundle.dir],
] as const) {
  const served = await serveBundle(dir, work);
  try {
    await liveCost(served, liveTarget, 'off'); // warm-up: the server parses the bundle files on first use
    live[name] = {
      withNode: await liveCost(served, { ...liveTarget, node: firstNode }, 'off'),
      withoutNode: await liveCost(served, liveTarget, 'off'),
      withNodeExecCaptures: await liveCost(served, { ...liveTarget, node: firstNode }, 'exec'),
    };
    if (name === 'nodes100') worker = await workerCpu(served, { ...liveTarget, node: firstNode }, 20);
  } finally {
    served.stop();
  }
}
const ratio = (k: 'withNode' | 'withoutNode', f: 'requests' | 'kib') =>
  Math.round(((live.nodes5000?.[k]?.[f] ?? 0) / (live.nodes100?.[k]?.[f] ?? 1)) * 100) / 100;
const liveRatios = {
  withNode: { requests: ratio('withNode', 'requests'), bytes: ratio('withNode', 'kib') },
  withoutNode: { requests: ratio('withoutNode', 'requests'), bytes: ratio('withoutNode', 'kib') },
};
Object.assign(results, {
  live: { target: liveTarget, ...live, ratio5000to100: liveRatios },
  workerCpu: worker,
});
// Merged: the other benchmarks (ack latency, storms) keep their entries.
const previous = JSON.parse(await readFile(resultsFile, 'utf8').catch(() => '{}')) as Record<string, unknown>;
await writeFile(resultsFile, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);

const rows = Object.entries(results.offline)
  .filter(([name]) => name !== 'wholeProcess')
  .map(([name, r]) => {
    const x = r as ReturnType<typeof summary>;
    return `| ${name} | ${x.runs} | ${x.medianTotalMs} | ${x.maxTotalMs} | ${x.medianLoadMs} | ${x.medianDiagnoseMs} | ${x.maxPeakRssMiB} | ${x.rootCause} |`;
  });
console.log(
  `Large bundle: ${large.nodes} nodes, ${results.largeBundle.pods} pods, ${large.services} Services, ${results.largeBundle.mebibytes} MiB in ${bundle.files} files (iptables-save ${results.largeBundle.iptablesSaveMiB} MiB per captured node)`,
);
console.log(
  `Machine: ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.memoryGiB} GiB, Node ${results.machine.node}, load average ${results.machine.loadAverage.join(' ')}\n`,
);
console.log('| scenario | runs | median ms | max ms | load ms | diagnose ms | peak RSS MiB | root cause |');
console.log('|---|---|---|---|---|---|---|---|');
console.log(rows.join('\n'));
const w = results.offline.wholeProcess;
console.log('\nWhole process, kproxy diagnose --bundle (built) vs the parse-only floor, interleaved:\n');
console.log('| | median wall ms | max wall ms | median CPU ms |');
console.log('|---|---|---|---|');
console.log(`| kproxy | ${w.kproxy.medianWallMs} | ${w.kproxy.maxWallMs} | ${w.kproxy.medianCpuMs} |`);
console.log(
  `| floor (${w.floorReads.files} files, ${w.floorReads.mebibytes} MiB) | ${w.floor.medianWallMs} | ${w.floor.maxWallMs} | ${w.floor.medianCpuMs} |`,
);
console.log(`| ratio | ${w.ratioWall}× | | ${w.ratioCpu}× |`);
console.log(`\nLive API cost (${liveTarget.namespace}/${liveTarget.service}, 4 pods), requests / KiB:\n`);
console.log('| cluster | --node, captures off | no --node, captures off | --node, exec captures |');
console.log('|---|---|---|---|');
for (const [size, r] of Object.entries(live))
  console.log(
    `| ${size} | ${r.withNode?.requests} / ${r.withNode?.kib} | ${r.withoutNode?.requests} / ${r.withoutNode?.kib} | ${r.withNodeExecCaptures?.requests} / ${r.withNodeExecCaptures?.kib} |`,
  );
console.log(
  `| 5,000 ÷ 100 | ${liveRatios.withNode.requests}× / ${liveRatios.withNode.bytes}× | ${liveRatios.withoutNode.requests}× / ${liveRatios.withoutNode.bytes}× | |`,
);
console.log(`\nWorker CPU per diagnosis (100 nodes, --node, exec captures): ${JSON.stringify(worker)}`);
