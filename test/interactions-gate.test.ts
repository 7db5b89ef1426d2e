/**
 * Every Slack interaction is handled once, and only from the workspace kproxy serves
 * (issue 14, items 9-10): redeliveries and replays of one signed click change nothing
 * more; commands and clicks from another team are refused. Whole stack, real Redis.
 */
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ApprovalStore } from '../src/approvals/store.js';
import { asker, ephemeral, isApprovalOf, reportWithButtons } from './helpers/approvals.js';
import { bundlesDir } from './helpers/bundles.js';
import { postAction, postCommand } from './helpers/slack-requests.js';
import { incidentChannel, oneStackPerTest, type Stack, startStack, waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const { started } = oneStackPerTest(redisUrl);

const settle = () => new Promise((r) => setTimeout(r, 1000));

describe('one signed interaction, handled once', () => {
  it('a click redelivered 3 times and replayed 50 times opens one request and answers nothing more', async () => {
    const ctx = await reportWithButtons({ redisUrl }, started);
    const click = {
      user: asker,
      actionId: 'kproxy_request_action_0',
      value: ctx.button('delete-kube-proxy-pod'),
      channel: incidentChannel,
      messageTs: ctx.report.ts,
      threadTs: ctx.report.thread_ts as string,
      responseUrl: `${ctx.s.slack.url}/response/${asker}`,
      triggerId: '8471.2256.5a1e0c0d3f9b4f2e',
      actionTs: '1763805601.123456',
    };
    const retries = await Promise.all(
      [undefined, '1', '2'].map((n) =>
        postAction(ctx.s.botUrl, { ...click, ...(n ? { headers: { 'x-slack-retry-num': n } } : {}) }),
      ),
    );
    expect(retries).toEqual([200, 200, 200]);
    for (let i = 0; i < 50; i++) expect(await postAction(ctx.s.botUrl, click)).toBe(200);
    await waitFor('the approval message', () =>
      ctx.s.slack.messages.some(isApprovalOf('delete-kube-proxy-pod')),
    );
    await settle();
    expect(ctx.s.slack.messages.filter(isApprovalOf('delete-kube-proxy-pod'))).toHaveLength(1);
    // The replays were not handled at all: no refusals, no rate-limit counted against the user.
    expect(ephemeral(ctx.s, asker)).toEqual([]);
    expect(await new ApprovalStore(ctx.s.redis).recentAudit(100)).toHaveLength(1);
  });
});

describe('the workspace kproxy serves', () => {
  const start = async (extra = '') => {
    return started(
      await startStack({ redisUrl, bundleDir: path.join(bundlesDir, 'healthy'), extraConfig: extra }),
    );
  };
  const diagnosing = (s: Stack) => s.slack.callsOf('chat.postMessage').length;

  it('by default only the bot token’s own workspace: another team’s command is refused', async () => {
    const s = await start();
    const foreign = await postCommand(s.botUrl, 'diagnose prod-east app/web-api', { teamId: 'T0EVIL0001' });
    expect(foreign.status).toBe(200);
    expect(foreign.body).toBe('');
    await settle();
    expect(diagnosing(s)).toBe(0);
    await postCommand(s.botUrl, 'diagnose prod-east app/web-api');
    await waitFor('the report', () => s.slack.reports().length === 1, 30_000);
  });

  it('configured workspaces only: the token’s own is refused when not listed', async () => {
    const s = await start('slack: { teams: [T0OTHER01] }\n');
    await postCommand(s.botUrl, 'diagnose prod-east app/web-api');
    await settle();
    expect(diagnosing(s)).toBe(0);
    await postCommand(s.botUrl, 'diagnose prod-east app/web-api', { teamId: 'T0OTHER01' });
    await waitFor('the report', () => s.slack.reports().length === 1, 30_000);
  });
});
