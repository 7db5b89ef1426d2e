/**
 * Two-person approval of a YELLOW action end to end: report button → approval message
 * with the dry-run plan → refused clicks (requester, non-approver) → approval → exactly one
 * write to the cluster → result and post-fix verification in the thread.
 */

import path from 'node:path';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { ApprovalStore } from '../src/approvals/store.js';
import { executeQueueName } from '../src/queue/jobs.js';
import { bundlesDir } from './helpers/bundles.js';
import type { StoredMessage } from './helpers/fake-slack.js';
import { flushRedis } from './helpers/redis-server.js';
import { postAction, postCommand, postViewSubmission } from './helpers/slack-requests.js';
import {
  controlsOf,
  incidentChannel,
  type Stack,
  type StackOptions,
  startStack,
  waitFor,
} from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const n2 = 'ip-10-0-2-45.ec2.internal';
const requester = 'U0ONCALL01';
const approvers = Array.from({ length: 20 }, (_, i) => `U0APPR${String(i).padStart(4, '0')}`);
let stack: Stack | undefined;

beforeEach(async () => {
  await flushRedis(redisUrl);
});
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function reportWithButtons(
  extra = '',
  api: StackOptions['api'] = {},
  more: Partial<StackOptions> = {},
) {
  stack = await startStack({
    redisUrl,
    api,
    ...more,
    bundleDir: path.join(bundlesDir, 'stale-endpoints'),
    extraConfig: `approvals:\n  yellow: { approvers: { users: [${approvers.join(', ')}], groups: [S0SREGROUP] }, required: 1 }\n${extra}`,
  });
  const s = stack;
  await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`, { user: requester });
  const [report] = await waitFor('the report', () =>
    s.slack.reports().length ? s.slack.reports() : undefined,
  );
  const { button, click } = controlsOf(s, report as StoredMessage);
  return { s, report, button, click };
}

const redApprover = 'U0REDAPPR1';
// The requester is a RED approver too: the dangerous case is approving one's own request.
const redPolicy = `  red: { approvers: { users: [${redApprover}, ${requester}] }, required: 1 }\n`;
const reasonText =
  'Rules on ip-10-0-2-45 stay stale after the kube-proxy restart; replacing the node (INC-4242).';

/** Modals the bot opened (views.open), by callback id. */
function modals(s: Stack, callbackId: string): { callback_id: string; private_metadata: string }[] {
  return s.slack
    .callsOf('views.open')
    .map((c) => c.params.view as { callback_id: string; private_metadata: string })
    .filter((v) => v.callback_id === callbackId);
}

const submitReason = (s: Stack, user: string, intent: string, reason: string) =>
  postViewSubmission(s.botUrl, {
    user,
    callbackId: 'kproxy_red_reason',
    privateMetadata: intent,
    values: { reason: { reason_input: { type: 'plain_text_input', value: reason } } },
  });

const submitConfirm = (s: Stack, user: string, approvalId: string, typed: string) =>
  postViewSubmission(s.botUrl, {
    user,
    callbackId: 'kproxy_red_confirm',
    privateMetadata: approvalId,
    values: { confirm: { confirm_input: { type: 'plain_text_input', value: typed } } },
  });

/** An approver asks for the action: the dangerous case is approving one's own request. */
const asker = approvers[5] as string;

async function requestDelete(ctx: Awaited<ReturnType<typeof reportWithButtons>>) {
  const isApproval = (m: { text?: string }) => m.text?.startsWith('Approval needed: delete-kube-proxy-pod');
  const before = ctx.s.slack.messages.filter(isApproval).length;
  expect(await ctx.click(asker, 'kproxy_request_action_0', ctx.button('delete-kube-proxy-pod'))).toBe(200);
  const message = await waitFor(
    'the approval message',
    () => ctx.s.slack.messages.filter(isApproval)[before],
  );
  await waitFor('the dry-run plan', () =>
    JSON.stringify(message.blocks).includes(
      'DELETE Pod kube-system/kube-proxy-k2v9d (node ip-10-0-2-45.ec2.internal)',
    ),
  );
  return { message, approvalId: controlsOf(ctx.s, message).button() };
}

const ephemeral = (s: Stack, user: string) =>
  s.slack.responses.filter((r) => r.path === `/response/${user}`).map((r) => String(r.body.text));

describe('two-person approvals in Slack', () => {
  it('refuses the requester and non-approvers, then executes exactly once on approval and verifies the fix', async () => {
    const ctx = await reportWithButtons();
    const { s } = ctx;
    const { message, approvalId } = await requestDelete(ctx);
    expect(message.thread_ts).toBe(ctx.report?.thread_ts);
    expect(JSON.stringify(message.blocks)).toContain(`Requested by <@${asker}>`);
    // The evidence behind the action: the root cause, then the quoted rule on that node.
    expect(JSON.stringify(message.blocks)).toContain('*Why:* programmed rules disagree with EndpointSlices');
    expect(JSON.stringify(message.blocks)).toContain(`> ${n2}: iptables-save: -A KUBE-SEP-`);

    await ctx.click(asker, 'kproxy_approve', approvalId, message.ts);
    await waitFor('the self-approval refusal', () =>
      ephemeral(s, asker).some((t) => t.includes('another approver must approve')),
    );
    await ctx.click('U0RANDOM01', 'kproxy_approve', approvalId, message.ts);
    await waitFor('the non-approver refusal', () =>
      ephemeral(s, 'U0RANDOM01').some((t) =>
        t.includes('You are not an approver for YELLOW actions on prod-east'),
      ),
    );
    expect(s.api.server.mutations).toEqual([]);

    await ctx.click(approvers[0] as string, 'kproxy_approve', approvalId, message.ts);
    await waitFor('the executed reply', () =>
      s.slack.messages.some((m) => m.text?.startsWith(':white_check_mark: Executed `delete-kube-proxy-pod`')),
    );
    expect(s.api.server.mutations).toEqual([
      {
        method: 'DELETE',
        path: '/api/v1/namespaces/kube-system/pods/kube-proxy-k2v9d',
        contentType: undefined,
        body: undefined,
      },
    ]);
    const verification = await waitFor('the post-fix check', () =>
      s.slack.messages.find((m) => m.text?.includes('Post-fix check')),
    );
    // The served bundle does not change, so the rules are still stale: kproxy says so.
    expect(verification.text).toContain(
      ':warning: Post-fix check: `stale_endpoints` is still the root cause',
    );
    // One message with the next steps and their buttons, not a second full report.
    expect(verification.blocks?.map((b) => (b as { type: string }).type)).toEqual([
      'section',
      'section',
      'section',
      'actions',
    ]);
    const closed = await waitFor('the closed approval message', () => {
      const text = JSON.stringify(s.slack.messages.find((m) => m.ts === message.ts)?.blocks);
      return text.includes('Done: DELETE Pod') ? text : undefined;
    });
    // Who requested and approved, and when, stay on the message.
    expect(closed).toMatch(new RegExp(`Requested by <@${asker}> <!date\\^\\d+`));
    expect(closed).toMatch(
      new RegExp(
        `Approved by <@${approvers[0]}> <!date\\^\\d+\\^\\{date_short\\} \\{time\\}\\|[^>]+> \\(1/1\\)`,
      ),
    );

    await ctx.click(approvers[1] as string, 'kproxy_approve', approvalId, message.ts);
    await waitFor('the late click', () =>
      ephemeral(s, approvers[1] as string).some((t) => t.includes('already done')),
    );
    expect(s.api.server.mutations).toHaveLength(1);
  });

  it('post-fix verification says "cleared" when the action fixed the root cause', async () => {
    // The served cluster after the DELETE is the healthy one: the recreated kube-proxy resynced.
    const ctx = await reportWithButtons('', { afterWrite: path.join(bundlesDir, 'healthy') });
    const { message, approvalId } = await requestDelete(ctx);
    await ctx.click(approvers[0] as string, 'kproxy_approve', approvalId, message.ts);
    const verification = await waitFor('the post-fix check', () =>
      ctx.s.slack.messages.find((m) => m.text?.includes('Post-fix check')),
    );
    expect(verification.text).toBe(
      ':white_check_mark: Post-fix check: `stale_endpoints` cleared (now: no fault found).',
    );
    expect(verification.thread_ts).toBe(ctx.report?.thread_ts);
  });

  it('a failed write is reported in the thread and on the message, and not retried', async () => {
    const ctx = await reportWithButtons('', {
      faults: [{ match: /^DELETE \/api\/v1\/namespaces\/kube-system\/pods\//, respond: 403 }],
    });
    const { message, approvalId } = await requestDelete(ctx);
    await ctx.click(approvers[0] as string, 'kproxy_approve', approvalId, message.ts);
    const failed = await waitFor('the failure', () =>
      ctx.s.slack.messages.find((m) => m.text?.startsWith(':x: `delete-kube-proxy-pod` failed')),
    );
    expect(failed.text).toContain('forbidden: delete pods');
    expect(failed.text).toContain('Not retried');
    await waitFor('the closed approval message', () =>
      JSON.stringify(ctx.s.slack.messages.find((m) => m.ts === message.ts)?.blocks).includes(
        'Failed: DELETE Pod',
      ),
    );
    expect((await new ApprovalStore(ctx.s.redis).get(approvalId))?.state).toBe('failed');
    expect(
      ctx.s.api.server.requests.filter((r) => r.method === 'DELETE' && r.path.includes('/pods/kube-proxy-')),
    ).toHaveLength(1);
    expect(ctx.s.slack.messages.some((m) => m.text?.includes('Post-fix check'))).toBe(false);
  });

  it("Slack's retried delivery of an approve click executes once", async () => {
    const ctx = await reportWithButtons();
    const { message, approvalId } = await requestDelete(ctx);
    const approver = approvers[0] as string;
    // Slack redelivers the same click (x-slack-retry-num) when the first ack seemed slow.
    const deliveries = await Promise.all(
      [undefined, '1', '2'].map((retry) =>
        postAction(ctx.s.botUrl, {
          user: approver,
          actionId: 'kproxy_approve',
          value: approvalId,
          channel: incidentChannel,
          messageTs: message.ts,
          threadTs: ctx.report?.thread_ts as string,
          responseUrl: `${ctx.s.slack.url}/response/${approver}`,
          ...(retry
            ? { headers: { 'x-slack-retry-num': retry, 'x-slack-retry-reason': 'http_timeout' } }
            : {}),
        }),
      ),
    );
    expect(deliveries).toEqual([200, 200, 200]);
    await waitFor('the executed reply', () =>
      ctx.s.slack.messages.some((m) => m.text?.startsWith(':white_check_mark: Executed')),
    );
    await waitFor('the duplicate answers', () => ephemeral(ctx.s, approver).length >= 2);
    expect(ctx.s.api.server.mutations).toHaveLength(1);
    expect(
      ctx.s.slack.messages.filter((m) => m.text?.startsWith(':white_check_mark: Executed')),
    ).toHaveLength(1);
  });

  it('an execution whose worker dies after claiming it is reported as interrupted, never run again', async () => {
    // Every worker checks for stalled jobs often (BullMQ lets one check per interval run).
    const ctx = await reportWithButtons('', {}, { workerOptions: { stalledInterval: 300 } });
    const { s } = ctx;
    const { message, approvalId } = await requestDelete(ctx);
    await s.worker?.close();
    await s.executeWorker?.close();
    // A worker that claims the execution, then dies before writing anything (its lock lapses).
    const store = new ApprovalStore(s.redis);
    const doomedConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const doomed = new Worker(
      executeQueueName,
      async () => {
        await store.claimExecution(approvalId, 'doomed-worker');
        await new Promise(() => undefined);
      },
      { connection: doomedConnection, prefix: s.prefix, lockDuration: 1000, skipStalledCheck: true },
    );
    await ctx.click(approvers[0] as string, 'kproxy_approve', approvalId, message.ts);
    await waitFor('the claim', async () => (await store.get(approvalId))?.state === 'executing');
    // Dead: its connection is gone, so nothing renews the job's lock.
    doomedConnection.disconnect();
    void doomed.close(true).catch(() => undefined);
    s.startWorker();
    const warning = await waitFor('the interruption notice', () =>
      s.slack.messages.find((m) => m.text?.startsWith(':warning: `delete-kube-proxy-pod` was interrupted')),
    );
    expect(warning.thread_ts).toBe(ctx.report?.thread_ts);
    expect((await store.get(approvalId))?.state).toBe('failed');
    await new Promise((r) => setTimeout(r, 500));
    expect(s.api.server.mutations).toEqual([]);
    expect((await store.recentAudit(5)).map((e) => e.type)[0]).toBe('failed');
  });

  it('the EKS add-on update is shown but refused on a cluster not configured as EKS; nothing opens', async () => {
    stack = await startStack({
      redisUrl,
      bundleDir: path.join(bundlesDir, 'version-skew'),
      extraConfig: `approvals:\n  yellow: { approvers: { users: [${approvers[0]}] } }\n`,
    });
    const s = stack;
    await postCommand(s.botUrl, 'diagnose prod-east app/web-api', { user: requester });
    const report = await waitFor('the report', () => s.slack.reports()[0]);
    expect(JSON.stringify(report.blocks)).toContain(
      '`update-kube-proxy-addon` is refused for now: this cluster is not configured as an EKS cluster',
    );
    const controls = controlsOf(s, report);
    await controls.click(requester, 'kproxy_request_action_0', controls.button('update-kube-proxy-addon'));
    await waitFor('the refusal', () =>
      ephemeral(s, requester).some((t) =>
        t.startsWith('`update-kube-proxy-addon` is refused: this cluster is not'),
      ),
    );
    expect(s.slack.messages.some((m) => m.text?.startsWith('Approval needed'))).toBe(false);
  });

  it('/kproxy audit shows the trail to approvers only', async () => {
    const ctx = await reportWithButtons();
    const { approvalId, message } = await requestDelete(ctx);
    await ctx.click(approvers[0] as string, 'kproxy_approve', approvalId, message.ts);
    await waitFor('the execution', () =>
      ctx.s.slack.messages.some((m) => m.text?.startsWith(':white_check_mark: Executed')),
    );
    const refused = JSON.parse((await postCommand(ctx.s.botUrl, 'audit 5', { user: 'U0RANDOM01' })).body) as {
      text: string;
    };
    expect(refused.text).toContain('approvers only');
    const trail = JSON.parse(
      (await postCommand(ctx.s.botUrl, 'audit 5', { user: approvers[3] as string })).body,
    ) as { text: string };
    // Workers as workers, people as people; the approving vote once, as `approved`.
    expect(trail.text).toMatch(/`done` .* by kproxy worker `worker-[0-9a-f]+`/);
    expect(trail.text).not.toContain('<@worker-');
    expect(trail.text).toMatch(/`approved` .* by <@U0APPR0000>/);
    expect(trail.text).not.toMatch(/`approval` .* by <@U0APPR0000>/);
    expect(trail.text).toMatch(/<!date\^\d+\^\{date_short\} \{time\}\|20\d\d-/);
    expect(trail.text).toMatch(
      /`requested` .* by <@U0APPR0005> — delete-kube-proxy-pod YELLOW on prod-east\/ip-10-0-2-45\.ec2\.internal/,
    );
  });

  it('with impersonation, writes run as the approving human, or not at all', async () => {
    const ctx = await reportWithButtons(
      `impersonation:\n  ${approvers[0]}: { user: alice@example.com, groups: [sre, oncall] }\n`,
    );
    const first = await requestDelete(ctx);
    await ctx.click(approvers[1] as string, 'kproxy_approve', first.approvalId, first.message.ts);
    await waitFor('the refusal', () =>
      ctx.s.slack.messages.some((m) =>
        m.text?.includes('no Kubernetes identity is mapped for <@U0APPR0001>'),
      ),
    );
    expect(ctx.s.api.server.mutations).toEqual([]);
    const second = await requestDelete(ctx);
    await ctx.click(approvers[0] as string, 'kproxy_approve', second.approvalId, second.message.ts);
    await waitFor('the execution', () =>
      ctx.s.slack.messages.some((m) => m.text?.startsWith(':white_check_mark: Executed')),
    );
    expect(ctx.s.api.server.mutations[0]?.impersonate).toEqual({
      user: 'alice@example.com',
      groups: ['sre', 'oncall'],
    });
  });

  it('an unanswered request expires by itself and says so; late clicks change nothing', async () => {
    const ctx = await reportWithButtons();
    const { approvalId, message } = await requestDelete(ctx);
    // Move its deadline into the past, as if 15 minutes had gone by.
    await ctx.s.redis.hset(`kproxy:approval:${approvalId}`, 'expiresAt', String(Date.now() - 1));
    await ctx.s.redis.zadd('kproxy:approvals:pending', Date.now() - 1, approvalId);
    await waitFor('the expired message', () =>
      JSON.stringify(ctx.s.slack.messages.find((m) => m.ts === message.ts)?.blocks).includes(
        'Expired: nobody approved in time',
      ),
    );
    await ctx.click(approvers[0] as string, 'kproxy_approve', approvalId, message.ts);
    await waitFor('the late-click answer', () =>
      ephemeral(ctx.s, approvers[0] as string).some((t) => t.includes('already expired')),
    );
    expect(ctx.s.api.server.mutations).toEqual([]);
  });

  it('50 concurrent approve clicks execute once', async () => {
    const ctx = await reportWithButtons();
    const { approvalId, message } = await requestDelete(ctx);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        ctx.click(approvers[i % approvers.length] as string, 'kproxy_approve', approvalId, message.ts),
      ),
    );
    await waitFor('the execution', () =>
      ctx.s.slack.messages.some((m) => m.text?.startsWith(':white_check_mark: Executed')),
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(ctx.s.api.server.mutations).toHaveLength(1);
  });

  it('an approver from a user group may approve; a deny cancels and nothing is written', async () => {
    const ctx = await reportWithButtons();
    ctx.s.slack.groupMembers.set('S0SREGROUP', ['U0SREMEMB1']);
    const first = await requestDelete(ctx);
    await ctx.click('U0SREMEMB1', 'kproxy_deny', first.approvalId, first.message.ts);
    const denied = await waitFor('the denied message', () => {
      const text = JSON.stringify(ctx.s.slack.messages.find((m) => m.ts === first.message.ts)?.blocks);
      return text.includes('Denied by <@U0SREMEMB1>') ? text : undefined;
    });
    // Who and when, in place: the closing line carries the time of the denial.
    expect(denied).toMatch(
      /Denied by <@U0SREMEMB1>\. Nothing was changed\. · <!date\^\d+\^\{date_short\} \{time\}\|20\d\d-/,
    );
    await ctx.click(approvers[0] as string, 'kproxy_approve', first.approvalId, first.message.ts);
    await waitFor('the refusal', () =>
      ephemeral(ctx.s, approvers[0] as string).some((t) => t.includes('already denied')),
    );
    expect(ctx.s.api.server.mutations).toEqual([]);
  });

  it('RED: the requester writes a reason, the approver types the node name, then the drain runs once', async () => {
    const ctx = await reportWithButtons(redPolicy);
    const { s } = ctx;
    await ctx.click(requester, 'kproxy_request_action_2', ctx.button('drain-node'));
    const reasonView = await waitFor('the reason modal', () => modals(s, 'kproxy_red_reason')[0]);
    expect(s.slack.messages.some((m) => m.text?.startsWith('Approval needed'))).toBe(false);

    // A reason too short to mean anything is refused in the modal; nothing opens.
    const short = await submitReason(s, requester, reasonView.private_metadata, 'drain it');
    expect(short.body).toEqual({
      response_action: 'errors',
      errors: { reason: 'Write at least 10 characters: what is broken and why this action now.' },
    });
    // Someone else cannot submit the requester's form.
    const other = await submitReason(s, 'U0RANDOM01', reasonView.private_metadata, reasonText);
    expect(other.body.response_action).toBe('errors');
    expect(await submitReason(s, requester, reasonView.private_metadata, reasonText)).toEqual({
      status: 200,
      body: {},
    });
    // A retried submission of the same form does not open a second request.
    await submitReason(s, requester, reasonView.private_metadata, reasonText);
    const message = await waitFor('the RED approval message', () =>
      s.slack.messages.find((m) => m.text?.startsWith('Approval needed: drain-node')),
    );
    await waitFor('the dry-run plan', () =>
      JSON.stringify(s.slack.messages.find((m) => m.ts === message.ts)?.blocks).includes(
        'EVICT Pod app/web-api-7c9d8b6f5d-8mzt2',
      ),
    );
    const text = JSON.stringify(message.blocks);
    expect(text).toContain(reasonText);
    expect(text).toContain(`approvers type \`${n2}\` to confirm`);
    expect(s.slack.messages.filter((m) => m.text?.startsWith('Approval needed'))).toHaveLength(1);
    const approvalId = controlsOf(s, message).button();

    // YELLOW approvers are not RED approvers; the requester cannot approve.
    await ctx.click(approvers[0] as string, 'kproxy_approve', approvalId, message.ts);
    await ctx.click(requester, 'kproxy_approve', approvalId, message.ts);
    await waitFor(
      'the refusals',
      () =>
        ephemeral(s, approvers[0] as string).some((t) => t.includes('not an approver for RED actions')) &&
        ephemeral(s, requester).some((t) => t.includes('another approver must approve')),
    );
    expect(modals(s, 'kproxy_red_confirm')).toEqual([]);

    await ctx.click(redApprover, 'kproxy_approve', approvalId, message.ts);
    const confirmView = await waitFor('the confirmation modal', () => modals(s, 'kproxy_red_confirm')[0]);
    expect(confirmView.private_metadata).toBe(approvalId);
    // A wrong name (or the cluster's, or a near miss) approves nothing.
    for (const typed of ['prod-east', 'ip-10-0-2-45', '']) {
      const wrong = await submitConfirm(s, redApprover, approvalId, typed);
      expect(wrong.body).toEqual({
        response_action: 'errors',
        errors: { confirm: `Type exactly \`${n2}\` to approve.` },
      });
    }
    // Forging the modal as someone else (a non-approver) is refused by identity, not by the form.
    const forged = await submitConfirm(s, 'U0RANDOM01', approvalId, n2);
    expect(forged.body.errors).toEqual({
      confirm: 'You are not an approver for RED actions on prod-east; nothing changed.',
    });
    expect(s.api.server.mutations).toEqual([]);

    expect((await submitConfirm(s, redApprover, approvalId, ` ${n2} `)).body).toEqual({});
    await waitFor('the executed reply', () =>
      s.slack.messages.some((m) => m.text?.startsWith(':white_check_mark: Executed `drain-node`')),
    );
    expect(s.api.server.mutations.map((m) => `${m.method} ${m.path}`)).toEqual([
      `PATCH /api/v1/nodes/${n2}`,
      'POST /api/v1/namespaces/app/pods/web-api-7c9d8b6f5d-8mzt2/eviction',
      'POST /api/v1/namespaces/kube-system/pods/coredns-5b8cc885bc-9tnbw/eviction',
    ]);
    const trail = await new ApprovalStore(s.redis).recentAudit(20);
    expect(trail.map((e) => e.type).reverse()).toEqual([
      'requested',
      'approval',
      'approved',
      'executing',
      'done',
    ]);
    expect(trail.find((e) => e.type === 'requested')?.detail).toContain(reasonText);
    expect(trail.find((e) => e.type === 'approval')?.detail).toBe(n2);

    // After it ran, a second confirmation changes nothing.
    const late = await submitConfirm(s, redApprover, approvalId, n2);
    expect(late.body.response_action).toBe('errors');
    expect(s.api.server.mutations).toHaveLength(3);
  });

  it('the execute worker refuses an approved RED request however it got into Redis', async () => {
    const ctx = await reportWithButtons();
    const store = new ApprovalStore(ctx.s.redis);
    // As if the YELLOW door had been bypassed: a drain recorded with a forged YELLOW rating.
    const forged = await store.create({
      cluster: 'prod-east',
      action: 'drain-node',
      safety: 'YELLOW',
      node: n2,
      requester,
      required: 1,
      expiresAt: Date.now() + 600_000,
      jobId: 'forged',
      channel: incidentChannel,
      threadTs: ctx.report?.thread_ts as string,
    });
    await ctx.s.redis.set(
      `kproxy:approval:${forged.id}:message`,
      JSON.stringify({ channel: incidentChannel, ts: ctx.report?.ts, ref: {} }),
    );
    expect((await store.approve(forged.id, asker)).outcome).toBe('approved');
    await ctx.s.executeQueue.add('execute', { approvalId: forged.id }, { jobId: `exec__${forged.id}` });
    await waitFor('the refusal in the thread', () =>
      ctx.s.slack.messages.some((m) => m.text?.startsWith(':x: `drain-node` was not executed')),
    );
    expect((await store.get(forged.id))?.state).toBe('failed');
    expect(ctx.s.api.server.mutations).toEqual([]);
  });
});
