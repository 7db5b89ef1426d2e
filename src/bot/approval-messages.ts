/** The approval message in the thread: what, where, who asked, who approved, until when. */
import { actionCatalog } from '../approvals/actions.js';
import type { Approval } from '../approvals/store.js';
import type { ApprovalPolicy } from '../config/config.js';
import { type Block, escapeMrkdwn } from '../report/blocks.js';

export function approvalBlocks(
  a: Approval,
  policy: ApprovalPolicy,
  plan: string | undefined,
  closing?: string,
): { text: string; blocks: Block[] } {
  const spec = actionCatalog[a.action];
  const where = `${a.cluster}${a.node ? ` / node ${a.node}` : ''}`;
  const who =
    [
      ...policy.approvers.users.map((u) => `<@${u}>`),
      ...policy.approvers.groups.map((g) => `<!subteam^${g}>`),
    ].join(', ') || 'nobody (configure approvals)';
  const expires = Math.floor(a.expiresAt / 1000);
  const lines = [
    `*Approval needed* · \`${a.action}\` (${a.safety}) on ${escapeMrkdwn(where)}`,
    escapeMrkdwn(spec.description),
    `Requested by <@${a.requester}>${a.reason ? ` — “${escapeMrkdwn(a.reason)}”` : ''} · expires <!date^${expires}^{time}|${new Date(a.expiresAt).toISOString()}>`,
    `Needs ${a.required} approval(s) from: ${who}`,
    a.approvers.length > 0
      ? `Approved by ${a.approvers.map((u) => `<@${u}>`).join(', ')} (${a.approvers.length}/${a.required})`
      : '',
    `*Plan (dry run):* ${plan ? escapeMrkdwn(plan) : '_reading the cluster…_'}`,
  ].filter(Boolean);
  const blocks: Block[] = [
    { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 3000) } },
  ];
  if (closing) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: closing.slice(0, 3000) }] });
  else {
    blocks.push({
      type: 'actions',
      block_id: 'kproxy_approval',
      elements: [
        {
          type: 'button',
          action_id: 'kproxy_approve',
          text: { type: 'plain_text', text: 'Approve' },
          style: 'primary',
          value: a.id,
        },
        {
          type: 'button',
          action_id: 'kproxy_deny',
          text: { type: 'plain_text', text: 'Deny' },
          style: 'danger',
          value: a.id,
        },
      ],
    });
  }
  return { text: `Approval needed: ${a.action} on ${where}`, blocks };
}
