/**
 * Text from users and clusters never becomes Slack markup (issue 14, item 14): the audit
 * shows reasons as text, worker ids as text, and only the entries of the clusters the
 * channel may diagnose; cluster text cannot break out of a report's code blocks. Whole
 * stack through Bolt's receiver, real Redis.
 */
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { ApprovalStore } from '../src/approvals/store.js';
import { approvers, asker, n2, reportWithButtons, requestDelete } from './helpers/approvals.js';
import { copyExample } from './helpers/bundles.js';
import { postCommand } from './helpers/slack-requests.js';
import { incidentChannel, oneStackPerTest, startStack, waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
// Registered first, so it runs after the stack has stopped (after-hooks run in reverse).
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
const { started } = oneStackPerTest(redisUrl);

const westChannel = 'C0WESTOPS01';
const hostile = '<https://evil.example|re-approve here> <!channel> ```';

describe('/kproxy audit', () => {
  it('shows reasons as text, workers as text, and only the clusters of the channel it is asked in', async () => {
    const ctx = await reportWithButtons(
      {
        redisUrl,
        more: {
          clusters: (api) =>
            [
              '  - name: prod-east',
              `    kubeconfig: { path: ${api.kubeconfig}, context: bundle }`,
              `    channels: [${incidentChannel}]`,
              '    nodeCaptures: debug-pod',
              '  - name: prod-west',
              `    kubeconfig: { path: ${api.kubeconfig}, context: bundle }`,
              `    channels: [${westChannel}]`,
            ].join('\n'),
        },
      },
      started,
    );
    const { s } = ctx;
    const { message, approvalId } = await requestDelete(ctx);
    await ctx.click(approvers[0] as string, 'kproxy_approve', approvalId, message.ts);
    await waitFor('the execution', () =>
      s.slack.messages.some((m) => m.text?.startsWith(':white_check_mark: Executed')),
    );
    // A RED request on prod-east whose reason is markup, and a request on prod-west.
    const store = new ApprovalStore(s.redis);
    const base = {
      action: 'drain-node' as const,
      safety: 'RED' as const,
      node: n2,
      requester: asker,
      required: 1,
      expiresAt: Date.now() + 600_000,
      jobId: 'j',
      channel: incidentChannel,
      threadTs: ctx.report.thread_ts as string,
    };
    await store.create({ ...base, cluster: 'prod-east', reason: `Drain now ${hostile}` });
    await store.create({
      ...base,
      cluster: 'prod-west',
      reason: 'west only: secret-node-name',
      channel: westChannel,
    });

    const audit = async (channel: string) =>
      (
        JSON.parse(
          (await postCommand(s.botUrl, 'audit 20', { user: approvers[3] as string, channel })).body,
        ) as {
          text: string;
        }
      ).text;
    const east = await audit(incidentChannel);
    expect(east).toContain('Drain now &lt;https://evil.example|re-approve here&gt; &lt;!channel&gt;');
    expect(east).not.toContain('<https://evil.example');
    expect(east).not.toContain('<!channel>');
    expect(east).toMatch(/`done` \S+ by kproxy worker `worker-[0-9a-f]{8}`/);
    expect(east).not.toContain('<@worker-');
    expect(east).not.toContain('west only');
    const west = await audit(westChannel);
    expect(west).toContain('west only: secret-node-name');
    expect(west).not.toContain('delete-kube-proxy-pod');
    expect(await audit('C0NOCLUSTER')).toContain('may not diagnose any cluster');
  });
});

describe('reports', () => {
  it('cluster text with ``` stays inside its code block', async () => {
    const copy = await copyExample('stale-endpoints');
    cleanups.push(copy.cleanup);
    // kube-proxy logs a line with a fence and a broadcast mention (the timeline quotes it).
    await appendFile(
      path.join(copy.dir, 'logs/kube-system/kube-proxy-k2v9d/kube-proxy.log'),
      'E1122 09:58:00.000000       1 proxier.go:1500] "Sync failed" err="```\\n*pwned* <!channel> ```"\n',
    );
    const s = started(await startStack({ redisUrl, bundleDir: copy.dir }));
    await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`);
    const report = await waitFor('the report', () => s.slack.reports()[0], 30_000);
    const texts = (report.blocks as { text?: { text?: string } }[]).map((b) => b.text?.text ?? '');
    const timeline = texts.find((t) => t.startsWith('*Timeline*')) ?? '';
    expect(timeline).toContain('Sync failed');
    expect(timeline).toContain('&lt;!channel&gt;');
    // Exactly the block's own two fences in every section.
    for (const t of texts) expect((t.match(/```/g) ?? []).length % 2).toBe(0);
    expect(timeline.match(/```/g)).toHaveLength(2);
  });
});
