/**
 * Who may ask for an action, and how often (issue 14, items 4 and 7): requests go through
 * the same authorization and limits as commands before anything is created; one open
 * request per report, action and target; a request whose dry run says it cannot run
 * closes itself without asking anyone. Whole stack through Bolt's receiver, real Redis.
 */
import { describe, expect, inject, it } from 'vitest';
import {
  approvers,
  asker,
  ephemeral,
  isApprovalOf,
  reportWithButtons,
  requestDelete,
  requester,
} from './helpers/approvals.js';
import { postAction } from './helpers/slack-requests.js';
import { oneStackPerTest, type Stack, waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const { started } = oneStackPerTest(redisUrl);

const isDeleteApproval = isApprovalOf('delete-kube-proxy-pod');
/** Thread replies that ask the approvers (mention one of them). */
const pings = (s: Stack) =>
  s.slack.messages.filter(
    (m) => m.thread_ts && m.text?.includes(`<@${approvers[0]}>`) && m.text.includes('needs'),
  );
const settle = () => new Promise((r) => setTimeout(r, 1000));

describe('who may ask for an action', () => {
  it('a user not on users.allow cannot request an action; nothing is created', async () => {
    const outsider = 'U0OUTSIDE1';
    const ctx = await reportWithButtons(
      { redisUrl, extra: `users:\n  allow: [${requester}, ${asker}]\n` },
      started,
    );
    expect(await ctx.click(outsider, 'kproxy_request_action_0', ctx.button('delete-kube-proxy-pod'))).toBe(
      200,
    );
    await waitFor('the refusal', () =>
      ephemeral(ctx.s, outsider).some((t) => t.includes('you are not on the list of users allowed')),
    );
    await settle();
    expect(ctx.s.slack.messages.filter(isDeleteApproval)).toEqual([]);
    expect(await ctx.s.redis.keys('kproxy:approval:*')).toEqual([]);
  });

  it('a click from a channel not listed for the cluster is refused', async () => {
    const ctx = await reportWithButtons({ redisUrl }, started);
    const other = 'C0ELSEWHERE';
    await postAction(ctx.s.botUrl, {
      user: asker,
      actionId: 'kproxy_request_action_0',
      value: ctx.button('delete-kube-proxy-pod'),
      channel: other,
      messageTs: ctx.report.ts,
      responseUrl: `${ctx.s.slack.url}/response/${asker}`,
    });
    await waitFor('the refusal', () =>
      ephemeral(ctx.s, asker).some((t) =>
        t.includes('this channel may not diagnose a cluster named `prod-east`'),
      ),
    );
    await settle();
    expect(ctx.s.slack.messages.filter(isDeleteApproval)).toEqual([]);
  });

  it('60 clicks by one user open one request and ping the approvers once', async () => {
    const ctx = await reportWithButtons({ redisUrl }, started);
    const statuses = await Promise.all(
      Array.from({ length: 60 }, () =>
        ctx.click(asker, 'kproxy_request_action_0', ctx.button('delete-kube-proxy-pod')),
      ),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    await waitFor('60 answers or an approval', () => ctx.s.slack.messages.some(isDeleteApproval));
    await waitFor('the ping', () => pings(ctx.s).length > 0);
    await settle();
    expect(ctx.s.slack.messages.filter(isDeleteApproval)).toHaveLength(1);
    expect(pings(ctx.s)).toHaveLength(1);
    const told = ephemeral(ctx.s, asker);
    expect(told.some((t) => t.startsWith(':turtle: Too many requests'))).toBe(true);
  });

  it('a user may have only so many requests waiting', async () => {
    const ctx = await reportWithButtons(
      { redisUrl, extra: 'rateLimits: { openRequestsPerUser: 1 }\n' },
      started,
    );
    await requestDelete(ctx);
    await ctx.click(asker, 'kproxy_request_action_1', ctx.button('cordon-node'));
    await waitFor('the refusal', () =>
      ephemeral(ctx.s, asker).some((t) => t.startsWith('You already have 1 request(s) waiting')),
    );
    expect(ctx.s.slack.messages.filter(isApprovalOf('cordon-node'))).toEqual([]);
  });
});

describe('one request per report, action and target', () => {
  it('a double click opens one request; a second approver cannot run it twice', async () => {
    const ctx = await reportWithButtons({ redisUrl }, started);
    const { message, approvalId } = await requestDelete(ctx);
    await ctx.click(approvers[7] as string, 'kproxy_request_action_0', ctx.button('delete-kube-proxy-pod'));
    await waitFor('the refusal', () =>
      ephemeral(ctx.s, approvers[7] as string).some((t) =>
        t.startsWith('`delete-kube-proxy-pod` was already requested from this report (pending)'),
      ),
    );
    await ctx.click(approvers[0] as string, 'kproxy_approve', approvalId, message.ts);
    await waitFor('the execution', () =>
      ctx.s.slack.messages.some((m) => m.text?.startsWith(':white_check_mark: Executed')),
    );
    // Done: the report's button stays spent (the recreated pod must not be deleted again).
    await ctx.click(asker, 'kproxy_request_action_0', ctx.button('delete-kube-proxy-pod'));
    await waitFor('the refusal', () =>
      ephemeral(ctx.s, asker).some((t) => t.includes('already requested from this report (')),
    );
    expect(ctx.s.slack.messages.filter(isDeleteApproval)).toHaveLength(1);
    expect(ctx.s.api.server.mutations).toHaveLength(1);
  });

  it('a request whose dry run says it cannot run closes itself and asks nobody', async () => {
    const ctx = await reportWithButtons({ redisUrl }, started);
    // From now on the cluster refuses to list kube-proxy pods to kproxy.
    ctx.s.api.server.faults.push({ match: /^GET \/api\/v1\/namespaces\/kube-system\/pods/, respond: 403 });
    await ctx.click(asker, 'kproxy_request_action_0', ctx.button('delete-kube-proxy-pod'));
    const message = await waitFor('the approval message', () => ctx.s.slack.messages.find(isDeleteApproval));
    const closed = await waitFor('the closed message', () => {
      const text = JSON.stringify(ctx.s.slack.messages.find((m) => m.ts === message.ts)?.blocks);
      return text.includes('Closed: cannot run now') ? text : undefined;
    });
    expect(closed).not.toContain('kproxy_approve');
    // Nobody was mentioned in a posted message (edits notify nobody).
    const posted = ctx.s.slack.callsOf('chat.postMessage').map((c) => JSON.stringify(c.params));
    expect(posted.filter((p) => p.includes(`<@${approvers[0]}>`))).toEqual([]);
    await settle();
    expect(pings(ctx.s)).toEqual([]);
    // Closed without running: the slot is free again once the cluster answers.
    ctx.s.api.server.faults.length = 0;
    await requestDelete(ctx);
  });
});
