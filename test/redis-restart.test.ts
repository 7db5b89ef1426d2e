/**
 * A Redis restart mid-flow: a private redis-server with AOF (appendfsync always here, so
 * the test does not depend on the 1 s window) is restarted between the request and the
 * approval, and with a diagnosis still queued. Bot and workers reconnect; queued jobs,
 * pending approvals and the audit trail survive.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../src/approvals/store.js';
import { bundlesDir } from './helpers/bundles.js';
import { freePort } from './helpers/ports.js';
import { type RedisServer, startRedisServer } from './helpers/redis-server.js';
import { postCommand } from './helpers/slack-requests.js';
import { controlsOf, type Stack, startStack, waitFor } from './helpers/stack.js';

let dir = '';
let server: RedisServer | undefined;

/** The AOF server on `port`, with its files in `dir` (so a restart reloads them). */
async function startRedis(port: number): Promise<void> {
  server = await startRedisServer({
    port,
    args: ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'],
  });
}

async function stopRedis(): Promise<void> {
  await server?.stop();
  server = undefined;
}

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

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

  it('mid-flow: a queued diagnosis and a pending approval survive; bot and workers reconnect and finish both', async () => {
    await stopRedis();
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-aof-'));
    const port = await freePort();
    await startRedis(port);
    const n2 = 'ip-10-0-2-45.ec2.internal';
    const approver = 'U0APPROVE1';
    stack = await startStack({
      redisUrl: `redis://127.0.0.1:${port}`,
      bundleDir: path.join(bundlesDir, 'stale-endpoints'),
      extraConfig: `approvals:\n  yellow: { approvers: { users: [${approver}] } }\n`,
    });
    const s = stack;
    s.redis.on('error', () => undefined);
    await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`);
    const report = await waitFor('the report', () => s.slack.reports()[0]);
    const reportControls = controlsOf(s, report);
    const deleteRef = reportControls.button('delete-kube-proxy-pod');
    const click = reportControls.click;
    await click('U0ONCALL01', 'kproxy_request_action_0', deleteRef, report.ts);
    const approvalMessage = await waitFor('the approval message', () =>
      s.slack.messages.find((m) => m.text?.startsWith('Approval needed')),
    );
    const approvalId = controlsOf(s, approvalMessage).button();

    // Workers down; a second diagnosis is queued and waits.
    await s.worker?.close();
    await s.executeWorker?.close();
    await postCommand(s.botUrl, 'diagnose prod-east kube-system/kube-dns', { user: 'U0ONCALL02' });
    await waitFor('the queued job', async () => (await s.queue.getWaitingCount()) === 1);

    await stopRedis();
    await startRedis(port);

    // The bot reconnects by itself: a command after the restart is answered and queued.
    await waitFor('the bot back on Redis', async () => {
      const res = await postCommand(s.botUrl, 'diagnose prod-east default/kubernetes', {
        user: 'U0ONCALL03',
      });
      return res.status === 200 && !res.body.includes('could not');
    });
    await waitFor('both jobs queued', async () => (await s.queue.getWaitingCount()) === 2);
    expect((await new ApprovalStore(s.redis).get(approvalId))?.state).toBe('pending');

    // Workers come back: the queued diagnoses run, the approval executes once.
    s.startWorker();
    await waitFor('both queued reports', () => s.slack.reports().length === 3);
    await click(approver, 'kproxy_approve', approvalId, approvalMessage.ts);
    await waitFor('the executed reply', () =>
      s.slack.messages.some((m) => m.text?.startsWith(':white_check_mark: Executed')),
    );
    expect(s.api.server.mutations).toHaveLength(1);
    const trail = (await new ApprovalStore(s.redis).recentAudit(10)).map((e) => e.type).reverse();
    expect(trail).toEqual(['requested', 'approval', 'approved', 'executing', 'done']);
  });
});
