/**
 * The real entry point (`src/start.ts`, what `npm start` runs) as its own process, when its
 * dependencies are down: every line it writes is JSON, repeated connection errors are
 * collapsed, and SIGTERM ends it by itself (no test here asserts how fast).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSlack } from './helpers/fake-slack.js';
import { freePort } from './helpers/ports.js';
import { signingSecret } from './helpers/slack-requests.js';
import { waitFor } from './helpers/stack.js';

const root = path.resolve(import.meta.dirname, '..');
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Spawned {
  readonly child: ChildProcess;
  readonly stdout: () => string[];
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startProcess(entry: string, env: Record<string, string>): Promise<Spawned> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-process-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'kproxy.yaml');
  await writeFile(config, 'clusters:\n  - name: ops\n    inCluster: true\n    channels: [C0INCIDENT1]\n');
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', KPROXY_CONFIG: config, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c) => {
    out += c;
  });
  child.stderr?.on('data', (c) => {
    err += c;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, stdout: () => out.split('\n').filter(Boolean), stderr: () => err, exited };
}

describe('the long-running processes', () => {
  it.each([
    ['npm start (bot + workers)', 'src/start.ts'],
    ['a worker-only process', 'src/workers/main.ts'],
  ])(
    '%s with Redis unreachable: JSON lines only, repeats collapsed, and SIGTERM ends it',
    async (_, entry) => {
      const slack = new FakeSlack();
      await slack.start();
      cleanups.push(() => slack.stop());
      const deadRedis = `redis://127.0.0.1:${await freePort()}`;
      const started = Date.now();
      const p = await startProcess(entry, {
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_SIGNING_SECRET: signingSecret,
        SLACK_API_URL: slack.apiUrl,
        REDIS_URL: deadRedis,
        PORT: '0',
        HEALTH_PORT: '0',
      });
      await waitFor(
        'the process to start',
        () => p.stdout().some((l) => l.includes('"kproxy started"')),
        120_000,
      );
      // Let the connections retry for a while: each attempt fails again.
      await waitFor(
        'repeated connection errors',
        () => p.stdout().filter((l) => l.includes('ECONNREFUSED')).length >= 5,
        120_000,
      );
      p.child.kill('SIGTERM');
      const { code, signal } = await waitFor('the process to exit', () => p.exited, 120_000);
      const elapsedIntervals = Math.ceil((Date.now() - started) / 30_000);

      expect(signal).toBeNull();
      expect(code).toBe(0);
      expect(p.stderr()).toBe('');
      const lines = p.stdout().map((l) => JSON.parse(l) as { msg: string; error?: string });
      expect(lines.some((l) => l.msg === 'shutting down')).toBe(true);
      const perMessage = new Map<string, number>();
      for (const l of lines) {
        const key = `${l.msg}|${l.error ?? ''}`;
        perMessage.set(key, (perMessage.get(key) ?? 0) + 1);
      }
      // Each distinct error at most once per 30 s interval (plus the first), however often it recurs.
      for (const [key, count] of perMessage) {
        expect(count, key).toBeLessThanOrEqual(elapsedIntervals + 1);
      }
    },
  );
});
