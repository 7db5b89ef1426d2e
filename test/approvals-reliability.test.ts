/**
 * No approved action is lost or left hanging (issue 14, items 1-2): the execute job is
 * queued before any Slack call (the vote itself records the request in the store's
 * outbox), a sweep queues approved requests that have no job, and every path after the
 * claim ends `failed` or `done` with the reason in the thread. Whole stack, real Redis.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ApprovalStore } from '../src/approvals/store.js';
import { enqueueExecution } from '../src/queue/jobs.js';
import { approvers, asker, n2, reportWithButtons, requestDelete } from './helpers/approvals.js';
import { bundlesDir } from './helpers/bundles.js';
import { incidentChannel, oneStackPerTest, type Stack, waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const { started } = oneStackPerTest(redisUrl);

const approver = approvers[0] as string;
const executed = (s: Stack) =>
  s.slack.messages.some((m) => m.text?.startsWith(':white_check_mark: Executed `delete-kube-proxy-pod`'));

describe('approved actions are never lost', () => {
  it('executes although Slack fails every message update after the approving vote', async () => {
    const ctx = await reportWithButtons({ redisUrl }, started);
    const { message, approvalId } = await requestDelete(ctx);
    // chat.update answers 500 past the retry budget from now on (the approval message stays stale).
    ctx.s.slack.fail(/^chat\.update$/, 500, 10_000);
    expect(await ctx.click(approver, 'kproxy_approve', approvalId, message.ts)).toBe(200);
    await waitFor('the executed reply', () => executed(ctx.s));
    expect(ctx.s.api.server.mutations).toHaveLength(1);
    expect((await new ApprovalStore(ctx.s.redis).get(approvalId))?.state).toBe('done');
  });

  it('a request approved without its job being queued (the bot died after the vote) is queued by the sweep', async () => {
    const ctx = await reportWithButtons({ redisUrl }, started);
    const { approvalId } = await requestDelete(ctx);
    // The vote lands in Redis; the bot is gone before it can queue anything.
    expect((await new ApprovalStore(ctx.s.redis).approve(approvalId, approver)).outcome).toBe('approved');
    await waitFor('the executed reply', () => executed(ctx.s), 30_000);
    expect(ctx.s.api.server.mutations).toHaveLength(1);
  });

  it('an execution whose job is gone is recorded failed and said in the thread', async () => {
    const ctx = await reportWithButtons({ redisUrl }, started);
    const { s } = ctx;
    const { message, approvalId } = await requestDelete(ctx);
    await s.worker?.close();
    await s.executeWorker?.close();
    await ctx.click(approver, 'kproxy_approve', approvalId, message.ts);
    const job = await waitFor('the queued job', () => s.executeQueue.getJob(`exec__${approvalId}`));
    const store = new ApprovalStore(s.redis);
    // A worker claimed it, then its job vanished (removed, or expired while Redis was away).
    expect(await store.claimExecution(approvalId, 'lost-worker')).toBe(true);
    await job.remove();
    s.startWorker();
    const warning = await waitFor(
      'the interruption notice',
      () =>
        s.slack.messages.find((m) => m.text?.startsWith(':warning: `delete-kube-proxy-pod` was interrupted')),
      30_000,
    );
    expect(warning.text).toContain('its job is gone before reporting');
    expect(warning.thread_ts).toBe(ctx.report.thread_ts);
    expect((await store.get(approvalId))?.state).toBe('failed');
    expect(s.api.server.mutations).toEqual([]);
  });
});

describe('every path after the claim ends recorded and said', () => {
  it('credentials unreadable after the approval: failed, with the reason in the thread', async () => {
    const ctx = await reportWithButtons({ redisUrl }, started);
    const { message, approvalId } = await requestDelete(ctx);
    await rm(ctx.s.api.kubeconfig);
    await ctx.click(approver, 'kproxy_approve', approvalId, message.ts);
    const said = await waitFor('the failure in the thread', () =>
      ctx.s.slack.messages.find((m) => m.text?.startsWith(':x: `delete-kube-proxy-pod` was not executed')),
    );
    expect(said.thread_ts).toBe(ctx.report.thread_ts);
    expect(said.text).toContain(ctx.s.api.kubeconfig);
    const approval = await new ApprovalStore(ctx.s.redis).get(approvalId);
    expect(approval?.state).toBe('failed');
    const trail = await new ApprovalStore(ctx.s.redis).recentAudit(1);
    expect(trail[0]?.detail).toMatch(/^not executed: /);
    expect(ctx.s.api.server.mutations).toEqual([]);
  });
});

describe('the post-fix check', () => {
  it('a fix that left kube-proxy crashing is "not cleared: now pod_crash", never "cleared"', async () => {
    // After the DELETE the cluster serves a crash-looping kube-proxy (the replacement never settles).
    const ctx = await reportWithButtons(
      { redisUrl, api: { afterWrite: path.join(bundlesDir, 'kube-proxy-crashloop') } },
      started,
    );
    const { message, approvalId } = await requestDelete(ctx);
    await ctx.click(approver, 'kproxy_approve', approvalId, message.ts);
    const verdict = await waitFor(
      'the post-fix check',
      () => ctx.s.slack.messages.find((m) => m.text?.includes('Post-fix check')),
      30_000,
    );
    expect(verdict.text).toMatch(
      /^:warning: Post-fix check: `stale_endpoints` not cleared: now `pod_crash` — /,
    );
    // It waited: the cluster was diagnosed again before the verdict (the stack allows 3 attempts).
    const reports = ctx.s.slack.reports().filter((r) => r.thread_ts === ctx.report.thread_ts);
    expect(reports.length).toBe(2);
    expect(
      ctx.s.api.server.requests.filter((r) => r.path === '/api/v1/namespaces/kube-system/pods').length,
    ).toBeGreaterThan(3);
  });
});

describe("the running worker's lease", () => {
  /** A stack whose DELETE takes 4 s, with stalled jobs handed over within a second. */
  const slowDelete = () =>
    reportWithButtons(
      {
        redisUrl,
        api: {
          faults: [
            { match: /^DELETE \/api\/v1\/namespaces\/kube-system\/pods\//, respond: 'delay', ms: 4000 },
          ],
        },
        more: { workerOptions: { stalledInterval: 300 } },
      },
      started,
    );
  /** BullMQ's lock on the running job disappears (as when Redis was unreachable past it). */
  const dropJobLock = async (s: Stack, approvalId: string, alsoLease = false) => {
    await waitFor('the write in flight', () =>
      s.api.server.requests.some((r) => r.method === 'DELETE' && r.path.includes('/pods/kube-proxy-')),
    );
    // Its lease lapsed too (Redis unreachable for longer than the lease): the inheritor declares it.
    if (alsoLease) expect(await s.redis.del(`kproxy:approval:${approvalId}:lease`)).toBe(1);
    expect(await s.redis.del(`${s.prefix}:kproxy-execute:exec__${approvalId}:lock`)).toBe(1);
  };

  it('a worker that inherits a job whose runner still holds its lease does not declare it interrupted', async () => {
    const ctx = await slowDelete();
    const { message, approvalId } = await requestDelete(ctx);
    await ctx.click(approver, 'kproxy_approve', approvalId, message.ts);
    await dropJobLock(ctx.s, approvalId);
    await waitFor('the executed reply', () => executed(ctx.s), 30_000);
    const store = new ApprovalStore(ctx.s.redis);
    expect((await store.get(approvalId))?.state).toBe('done');
    expect(ctx.s.slack.messages.some((m) => m.text?.includes('was interrupted'))).toBe(false);
    expect(ctx.s.api.server.mutations).toHaveLength(1);
  });

  it('a worker that lost its lease and was declared interrupted has its late result appended to the audit', async () => {
    const ctx = await slowDelete();
    const { message, approvalId } = await requestDelete(ctx);
    await ctx.click(approver, 'kproxy_approve', approvalId, message.ts);
    await dropJobLock(ctx.s, approvalId, true);
    await waitFor('the interruption notice', () =>
      ctx.s.slack.messages.some((m) =>
        m.text?.startsWith(':warning: `delete-kube-proxy-pod` was interrupted'),
      ),
    );
    const late = await waitFor(
      'the late result',
      () =>
        ctx.s.slack.messages.find((m) =>
          m.text?.startsWith(':warning: Late result of `delete-kube-proxy-pod`'),
        ),
      30_000,
    );
    expect(late.text).toContain('DELETE Pod kube-system/kube-proxy-k2v9d');
    const trail = await new ApprovalStore(ctx.s.redis).recentAudit(10);
    expect(trail[0]).toMatchObject({ type: 'late_result', approval: approvalId });
    expect(trail[0]?.detail).toMatch(/^done: DELETE Pod kube-system\/kube-proxy-k2v9d/);
    expect(trail.map((e) => e.type)).toContain('failed');
  });

  it('a worker whose lease was taken over stops writing at its next step, and says what it did', async () => {
    const ctx = await reportWithButtons(
      { redisUrl, api: { faults: [{ match: /\/eviction$/, respond: 'delay', ms: 4000 }] } },
      started,
    );
    const store = new ApprovalStore(ctx.s.redis);
    // An approved RED drain (reason given, node name confirmed), queued for the worker.
    const drain = await store.create({
      cluster: 'prod-east',
      action: 'drain-node',
      safety: 'RED',
      node: n2,
      requester: asker,
      reason: 'Rules on the node stay stale after the kube-proxy restart (INC-4242).',
      required: 1,
      expiresAt: Date.now() + 600_000,
      jobId: 'j',
      channel: incidentChannel,
      threadTs: ctx.report.thread_ts as string,
    });
    expect((await store.approve(drain.id, approver, n2)).outcome).toBe('approved');
    await enqueueExecution(ctx.s.executeQueue, drain.id);
    await waitFor('the first eviction in flight', () =>
      ctx.s.api.server.requests.some((r) => r.path.endsWith('/eviction')),
    );
    await ctx.s.redis.set(`kproxy:approval:${drain.id}:lease`, 'another-worker');
    const said = await waitFor(
      'the failure',
      () => ctx.s.slack.messages.find((m) => m.text?.startsWith(':x: `drain-node` failed')),
      30_000,
    );
    expect(said.text).toContain('this worker lost its lease (another worker took over the execution)');
    // The cordon and the eviction in flight happened; the second eviction was never sent.
    expect(ctx.s.api.server.mutations.map((m) => `${m.method} ${m.path}`)).toEqual([
      `PATCH /api/v1/nodes/${n2}`,
      'POST /api/v1/namespaces/app/pods/web-api-7c9d8b6f5d-8mzt2/eviction',
    ]);
    const approval = await store.get(drain.id);
    expect(approval?.state).toBe('failed');
  });
});
