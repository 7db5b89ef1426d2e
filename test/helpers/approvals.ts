/**
 * A diagnosis report with action buttons on the whole stack, and the steps of asking for
 * an action through Slack: shared by the approval tests.
 */
import path from 'node:path';
import { expect } from 'vitest';
import { bundlesDir } from './bundles.js';
import type { StoredMessage } from './fake-slack.js';
import { postCommand } from './slack-requests.js';
import { controlsOf, type Stack, type StackOptions, startStack, waitFor } from './stack.js';

export const n2 = 'ip-10-0-2-45.ec2.internal';
export const requester = 'U0ONCALL01';
export const approvers = Array.from({ length: 20 }, (_, i) => `U0APPR${String(i).padStart(4, '0')}`);
/** An approver asks for the action (any user the configuration allows may ask). */
export const asker = approvers[5] as string;

export type Report = Awaited<ReturnType<typeof reportWithButtons>>;

/** Starts a stack serving the stale-endpoints bundle and asks for its report. */
export async function reportWithButtons(
  o: { redisUrl: string; extra?: string; api?: StackOptions['api']; more?: Partial<StackOptions> },
  started: (s: Stack) => void,
) {
  const s = await startStack({
    redisUrl: o.redisUrl,
    api: o.api ?? {},
    ...o.more,
    bundleDir: path.join(bundlesDir, 'stale-endpoints'),
    extraConfig: `approvals:\n  yellow: { approvers: { users: [${approvers.join(', ')}], groups: [S0SREGROUP] }, required: 1 }\n${o.extra ?? ''}`,
  });
  started(s);
  await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`, { user: requester });
  const report = await waitFor('the report', () => s.slack.reports()[0]);
  const { button, click } = controlsOf(s, report as StoredMessage);
  return { s, report, button, click };
}

export const isApprovalOf = (action: string) => (m: { text?: string }) =>
  m.text?.startsWith(`Approval needed: ${action}`) === true;

/** `asker` asks for delete-kube-proxy-pod; resolves once the dry run shows on the message. */
export async function requestDelete(ctx: Report, user = asker) {
  const isApproval = isApprovalOf('delete-kube-proxy-pod');
  const before = ctx.s.slack.messages.filter(isApproval).length;
  expect(await ctx.click(user, 'kproxy_request_action_0', ctx.button('delete-kube-proxy-pod'))).toBe(200);
  const message = await waitFor(
    'the approval message',
    () => ctx.s.slack.messages.filter(isApproval)[before],
  );
  await waitFor('the dry-run plan', () =>
    JSON.stringify(message.blocks).includes(`DELETE Pod kube-system/kube-proxy-k2v9d (node ${n2})`),
  );
  return { message, approvalId: controlsOf(ctx.s, message).button() };
}

/** What a user was told ephemerally (response_url). */
export const ephemeral = (s: Stack, user: string) =>
  s.slack.responses.filter((r) => r.path === `/response/${user}`).map((r) => String(r.body.text));
