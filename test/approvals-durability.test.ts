/**
 * Approvals and the audit trail survive a Redis restart: a private redis-server with AOF
 * (appendfsync always here, so the test does not depend on the 1 s window) is restarted
 * between the request and the approval.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../src/approvals/store.js';

let dir = '';
let server: ChildProcess | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startRedis(port: number): Promise<void> {
  server = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  const probe = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    retryStrategy: () => 50,
    maxRetriesPerRequest: null,
  });
  probe.on('error', () => undefined);
  await probe.connect().catch(() => undefined);
  await probe.ping();
  probe.disconnect();
}

async function stopRedis(): Promise<void> {
  const s = server;
  if (!s) return;
  await new Promise((resolve) => {
    s.once('exit', resolve);
    s.kill('SIGTERM');
  });
}

afterAll(async () => {
  await stopRedis();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('approvals across a Redis restart', () => {
  it('a request made before the restart is approved after it, once, with its audit trail intact', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-aof-'));
    const port = await freePort();
    await startRedis(port);
    const redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null });
    // Connection errors while the server restarts are expected; ioredis reconnects.
    redis.on('error', () => undefined);
    const store = new ApprovalStore(redis);
    const approval = await store.create({
      cluster: 'prod-east',
      action: 'cordon-node',
      safety: 'YELLOW',
      node: 'ip-10-0-2-45.ec2.internal',
      requester: 'U0REQUEST1',
      required: 1,
      expiresAt: Date.now() + 15 * 60_000,
      jobId: 'diag__x',
      channel: 'C0INCIDENT1',
      threadTs: '1.2',
    });

    await stopRedis();
    await startRedis(port);
    await redis.ping();

    expect((await store.get(approval.id))?.state).toBe('pending');
    expect(await store.approve(approval.id, 'U0SECOND01')).toEqual({ outcome: 'approved', count: 1 });
    expect(await store.claimExecution(approval.id, 'worker-1')).toBe(true);
    expect(await store.claimExecution(approval.id, 'worker-2')).toBe(false);
    expect((await store.recentAudit(10)).map((e) => e.type)).toEqual([
      'executing',
      'approved',
      'approval',
      'requested',
    ]);
    redis.disconnect();
  });
});
