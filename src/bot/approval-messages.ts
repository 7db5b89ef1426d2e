/** The approval message in the thread: what, where, who asked, who approved, until when. */
import { actionCatalog } from '../approvals/actions.js';
import { type Approval, confirmationTarget } from '../approvals/store.js';
import type { ApprovalPolicy } from '../config/config.js';
import type { ActionRef } from '../queue/jobs.js';
import { type Block, escapeMrkdwn } from '../report/blocks.js';

/** A time Slack shows in each reader's own zone (with the UTC ISO form as the fallback). */
export function slackTime(ms: number): string {
  return `<!date^${Math.floor(ms / 1000)}^{date_short} {time}|${new Date(ms).toISOString()}>`;
}

export function approvalBlocks(
  a: Approval,
  policy: ApprovalPolicy,
  plan: string | undefined,
  closing?: string,
): { text: string; blocks: Block[] } {
  const spec = actionCatalog[a.action];
  const where = `${a.cluster}${a.node ? ` / node ${a.node}` : ''}`;
  // Approvers are named (and notified, by a reply in the thread) only once the dry run shows
  // the action can run: a request that cannot run closes without pinging anyone.
  const who = plan ? approverMentions(policy) : `the ${a.safety} approvers (asked once the dry run passes)`;

  const lines = [
    `*Approval needed* · \`${a.action}\` (${a.safety}) on ${escapeMrkdwn(where)}`,
    escapeMrkdwn(spec.description),
    ...(a.evidence && a.evidence.length > 0
      ? [
          `*Why:* ${escapeMrkdwn(a.evidence[0] ?? '')}`,
          ...a.evidence.slice(1).map((e) => `> ${escapeMrkdwn(e)}`),
        ]
      : []),
    `Requested by <@${a.requester}> ${slackTime(a.createdAt)}${a.reason ? ` — “${escapeMrkdwn(a.reason)}”` : ''} · expires ${slackTime(a.expiresAt)}`,
    `Needs ${a.required} approval(s) from: ${who}${a.safety === 'RED' ? ` · approvers type \`${confirmationTarget(a)}\` to confirm` : ''}`,
    a.votes.length > 0
      ? `Approved by ${a.votes.map((v) => `<@${v.user}> ${slackTime(v.at)}`).join(', ')} (${a.votes.length}/${a.required})`
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

/** The approvers of a policy as Slack mentions (users and user groups). */
export function approverMentions(policy: ApprovalPolicy): string {
  return (
    [
      ...policy.approvers.users.map((u) => `<@${u}>`),
      ...policy.approvers.groups.map((g) => `<!subteam^${g}>`),
    ].join(', ') || 'nobody (configure approvals)'
  );
}

export interface Modal {
  readonly type: 'modal';
  readonly callback_id: string;
  readonly private_metadata: string;
  readonly title: { type: 'plain_text'; text: string };
  readonly submit: { type: 'plain_text'; text: string };
  readonly close: { type: 'plain_text'; text: string };
  readonly blocks: Block[];
}

const plain = (text: string) => ({ type: 'plain_text' as const, text });

/** RED, step 1: the requester says why (the approvers read it on the approval message). */
/**
 * Like `kubectl drain --delete-emptydir-data`: without it a drain refuses nodes running pods
 * with emptyDir volumes, whose data eviction deletes. The dry run then lists those pods, so
 * approvers see the loss they approve.
 */
export const emptyDirDataLossInput = {
  type: 'input',
  block_id: 'data_loss',
  optional: true,
  label: plain('emptyDir data'),
  element: {
    type: 'checkboxes',
    action_id: 'data_loss_input',
    options: [
      {
        text: plain('Also evict pods with emptyDir volumes (their emptyDir data is lost)'),
        value: 'accept',
      },
    ],
  },
};

export function reasonModal(intentId: string, ref: ActionRef): Modal {
  const spec = actionCatalog[ref.action];
  const where = `${ref.cluster}${ref.node ? ` / node ${ref.node}` : ''}`;
  return {
    type: 'modal',
    callback_id: 'kproxy_red_reason',
    private_metadata: intentId,
    title: plain('RED action: reason'),
    submit: plain('Request approval'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `\`${ref.action}\` on ${escapeMrkdwn(where)} is *RED*: ${escapeMrkdwn(spec.description)}.\nWrite why it is needed now. Approvers see your reason and must type the target's name.`,
        },
      },
      {
        type: 'input',
        block_id: 'reason',
        label: plain('Reason'),
        element: {
          type: 'plain_text_input',
          action_id: 'reason_input',
          multiline: true,
          min_length: 10,
          max_length: 500,
        },
      },
      ...(ref.action === 'drain-node' ? [emptyDirDataLossInput] : []),
    ],
  };
}

/** RED, step 2: the approver types the target's name. */
export function confirmModal(a: Approval): Modal {
  const target = confirmationTarget(a);
  return {
    type: 'modal',
    callback_id: 'kproxy_red_confirm',
    private_metadata: a.id,
    title: plain('Approve RED action'),
    submit: plain('Approve'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `\`${a.action}\` on ${escapeMrkdwn(a.cluster)}${a.node ? ` / node ${escapeMrkdwn(a.node)}` : ''}, requested by <@${a.requester}>: “${escapeMrkdwn(a.reason ?? '')}”\nType \`${escapeMrkdwn(target)}\` to approve.`,
        },
      },
      {
        type: 'input',
        block_id: 'confirm',
        label: plain('Target name'),
        element: { type: 'plain_text_input', action_id: 'confirm_input', max_length: 253 },
      },
    ],
  };
}
