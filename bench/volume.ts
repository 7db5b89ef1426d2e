/**
 * Issue 16's data-volume rows, each beside its floor in the same run:
 * - offline: `kproxy diagnose --bundle` (the built CLI bundle) on the 5,000-node bundle as a whole
 *   process, interleaved with the parse-only floor (bench/offline-floor.ts);
 * - live API cost: requests and bytes of a Service diagnosis on 100 and 5,000 nodes, with
 *   and without `--node` (node captures off: the API alone);
 * - worker CPU per diagnosis on the 100-node cluster (bench/worker-cpu.ts).
 * Wall times on a loaded machine say little; CPU times (user + system) are printed too.
 */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const cpuHook = path.join(root, 'bench', 'cpu-on-exit.mjs');

export interface ProcessSample {
  readonly wallMs: number;
  readonly cpuMs: number;
}

async function timed(args: string[]): Promise<ProcessSample & { stdout: string }> {
  const t0 = performance.now();
  const { stdout, stderr } = await exec(process.execPath, ['--import', cpuHook, ...args], {
    cwd: root,
    maxBuffer: 64 << 20,
  });
  const wallMs = performance.now() - t0;
  const cpu = /cpu-ms (\d+)\s*$/.exec(stderr);
  return { wallMs: Math.round(wallMs), cpuMs: Number(cpu?.[1] ?? Number.NaN), stdout };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * kproxy and the floor alternately, `runs` times each (after one warm-up of each); with
 * `baselineBin` (another build's bin/kproxy.js, e.g. main's), that build too, in the same
 * rotation, so a change is measured against its base under the same load.
 */
export async function offlineVersusFloor(bundleDir: string, runs: number, baselineBin?: string) {
  // tsc's dist/ and the CLI bundle (dist/bundle/), which bin/kproxy.js runs when present.
  await exec('npm', ['run', 'build'], { cwd: root });
  const diagnose = (bin: string) => () => timed([bin, 'diagnose', '--bundle', bundleDir, '--format', 'json']);
  const kproxy = diagnose(path.join(root, 'bin', 'kproxy.js'));
  const baseline = baselineBin === undefined ? undefined : diagnose(baselineBin);
  const floor = () => timed(['--no-warnings', path.join(root, 'bench', 'offline-floor.ts'), bundleDir]);
  const first = await kproxy();
  const read = JSON.parse((await floor()).stdout) as { files: number; bytes: number };
  await baseline?.();
  const k: ProcessSample[] = [];
  const f: ProcessSample[] = [];
  const b: ProcessSample[] = [];
  for (let i = 0; i < runs; i++) {
    k.push(await kproxy());
    f.push(await floor());
    if (baseline) b.push(await baseline());
  }
  const kWall = median(k.map((s) => s.wallMs));
  const fWall = median(f.map((s) => s.wallMs));
  const kCpu = median(k.map((s) => s.cpuMs));
  const fCpu = median(f.map((s) => s.cpuMs));
  return {
    runs,
    rootCause: (JSON.parse(first.stdout) as { rootCause: { category: string } }).rootCause.category,
    floorReads: { files: read.files, mebibytes: Math.round(read.bytes / 2 ** 20) },
    kproxy: { medianWallMs: kWall, maxWallMs: Math.max(...k.map((s) => s.wallMs)), medianCpuMs: kCpu },
    floor: { medianWallMs: fWall, maxWallMs: Math.max(...f.map((s) => s.wallMs)), medianCpuMs: fCpu },
    ...(baseline && {
      baseline: {
        bin: baselineBin,
        medianWallMs: median(b.map((s) => s.wallMs)),
        maxWallMs: Math.max(...b.map((s) => s.wallMs)),
        medianCpuMs: median(b.map((s) => s.cpuMs)),
      },
    }),
    ratioWall: Math.round((kWall / fWall) * 100) / 100,
    ratioCpu: Math.round((kCpu / fCpu) * 100) / 100,
  };
}

export interface Served {
  readonly kubeconfig: string;
  stop(): void;
}

/** The bundle served by `kproxy serve-bundle` in its own process (its CPU is not measured). */
export async function serveBundle(bundleDir: string, work: string): Promise<Served> {
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
  return { kubeconfig, stop: () => server.kill('SIGTERM') };
}

export interface LiveCost {
  readonly requests: number;
  readonly kib: number;
  readonly rootCause: string;
}

/** One live diagnosis in a fresh process (bench/live-once.ts): its requests and bytes. */
export async function liveCost(
  served: Served,
  target: { namespace: string; service: string; node?: string },
  captures: 'off' | 'exec',
): Promise<LiveCost> {
  const { stdout } = await exec(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(root, 'bench', 'live-once.ts'),
      served.kubeconfig,
      target.namespace,
      target.service,
      target.node ?? '-',
      captures,
    ],
    { cwd: root, maxBuffer: 1 << 20 },
  );
  const r = JSON.parse(stdout) as { requests: number; bytes: number; rootCause: string };
  return { requests: r.requests, kib: Math.round(r.bytes / 1024), rootCause: r.rootCause };
}

/** CPU per diagnosis in one long-lived process, as the worker runs them. */
export async function workerCpu(
  served: Served,
  target: { namespace: string; service: string; node?: string },
  runs: number,
) {
  const { stdout } = await exec(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(root, 'bench', 'worker-cpu.ts'),
      served.kubeconfig,
      target.namespace,
      target.service,
      target.node ?? '-',
      'exec',
      String(runs),
    ],
    { cwd: root, maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout) as {
    runs: number;
    medianCpuMs: number;
    p90CpuMs: number;
    requestsPerDiagnosis: number;
  };
}
