/** The Slack-side benchmarks' processes: kproxy (`src/start.ts`) and the bare Bolt floor, each on its own. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signingSecret } from '../test/helpers/slack-requests.js';
import { freePort } from './support.js';

const root = path.resolve(import.meta.dirname, '..');

export interface Running {
  readonly url: string;
  /** The process that answers Slack (its main thread runs the event loop that acks). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * CPU time (user + system, ms) of a process' main thread so far: the event loop's own work,
 * apart from its worker threads (Linux: /proc/<pid>/task/<pid>/stat, in clock ticks of 10 ms).
 */
export function mainThreadCpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    // Fields after the command name (which is in parentheses): utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
}

async function until(ok: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * kproxy on a private Redis and a fake Slack. `deployment`: `all` is `npm start` (bot and
 * workers in one process); `split` is the bot alone (`src/bot/main.ts`) beside a worker
 * process (`src/workers/main.ts`) started at a lower OS priority (os.setPriority, ten steps
 * down), as when both run on one machine. `root`: another checkout to run (before/after).
 */
export async function startKproxy(o: {
  redisUrl: string;
  slackApiUrl: string;
  config: string;
  env?: Record<string, string>;
  deployment?: 'all' | 'split';
  root?: string;
}): Promise<Running> {
  const dir = o.root ?? root;
  const [port, healthPort] = [await freePort(), await freePort()];
  // BENCH_PROFILE=<dir>: kproxy writes a CPU profile there when it stops (where the time goes).
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
  const env = {
    ...process.env,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: o.slackApiUrl,
    REDIS_URL: o.redisUrl,
    KPROXY_CONFIG: o.config,
    PORT: String(port),
    HEALTH_PORT: String(healthPort),
    BIND_ADDRESS: '127.0.0.1',
    HEALTH_BIND_ADDRESS: '127.0.0.1',
    ...o.env,
  };
  const run = (entry: string, extraEnv: Record<string, string> = {}) =>
    spawn(process.execPath, [...profile, '--import', 'tsx', path.join(dir, 'src', ...entry.split('/'))], {
      cwd: dir,
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  const children: ChildProcess[] = [];
  if (o.deployment === 'split') {
    const workerPort = await freePort();
    const worker = run('workers/main.ts', { PORT: String(workerPort) });
    children.push(worker);
    // Below the bot: on a shared machine the acks get the CPU before a diagnosis or a report.
    if (worker.pid) os.setPriority(worker.pid, Math.min(19, os.getPriority(worker.pid) + 10));
    await until(
      () =>
        fetch(`http://127.0.0.1:${workerPort}/readyz`).then(
          (r) => r.ok,
          () => false,
        ),
      'the kproxy worker',
    );
    children.push(run('bot/main.ts'));
  } else children.push(run('start.ts'));
  await until(
    () =>
      fetch(`http://127.0.0.1:${healthPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
    'kproxy',
  );
  const stops = children.map(stopper);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: children.at(-1)?.pid,
    // The bot first (it may still be starting acknowledged commands), then the worker.
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
    },
  };
}

/**
 * The floor: a Bolt app on the same receiver whose handler only acks (bench/bare-bolt.ts);
 * with `redisUrl`, one Redis round trip before its ack.
 */
export async function startBareBolt(slackApiUrl: string, redisUrl?: string): Promise<Running> {
  const port = await freePort();
  // BENCH_PROFILE: the floor's profile beside kproxy's (the same work per request, or not).
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
  const child = spawn(
    process.execPath,
    [...profile, '--import', 'tsx', path.join(root, 'bench', 'bare-bolt.ts')],
    {
      cwd: root,
      env: {
        ...process.env,
        SLACK_BOT_TOKEN: 'xoxb-bench',
        SLACK_SIGNING_SECRET: signingSecret,
        SLACK_API_URL: slackApiUrl,
        PORT: String(port),
        BIND_ADDRESS: '127.0.0.1',
        ...(redisUrl ? { BARE_BOLT_REDIS_URL: redisUrl } : {}),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let listening = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (String(chunk).includes('listening')) listening = true;
  });
  await until(async () => listening, 'the bare Bolt app');
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: stopper(child) };
}

/** A bundle served by the test API server in a process of its own (`kproxy serve-bundle`). */
export { serveBundle } from './volume.js';

/** The machine's load while a benchmark ran (it is shared: figures are read beside it). */
export function machineLoad(): { loadAverage1m: number; cpus: number } {
  return { loadAverage1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100, cpus: os.cpus().length };
}
