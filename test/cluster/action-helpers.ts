/**
 * The bot against the lab: kproxy's own identities from deploy/base (kproxy-worker
 * diagnoses, kproxy-actions plans and writes), the real Bolt receiver fed signed Slack
 * requests, real Redis and BullMQ, the fake Slack API; a request, a different person's
 * approval, and what the thread and the audit say. The lab's side is in action-lab.ts.
 */
import { expect } from 'vitest';
import { ApprovalStore, type AuditEntry } from '../../src/approvals/store.js';
import type { StoredMessage } from '../helpers/fake-slack.js';
import { postCommand, postViewSubmission } from '../helpers/slack-requests.js';
import { type BotStack, controlsOf, incidentChannel, startBotStack, waitFor } from '../helpers/stack.js';

export const requester = 'U0ONCALL01';
export const approver = 'U0APPR0001';
/** The lab's cluster name in kproxy's configuration. */
export const cluster = 'lab';

export interface LabStackOptions {
  readonly redisUrl: string;
  readonly kubeconfig: string;
  /** More configuration (approvals, impersonation). */
  readonly extraConfig?: string;
  /**
   * `exec`: the diagnosis reads each node's real rules in its kube-proxy pod (what a
   * verified kube-proxy fix needs); `off` where the node's rules do not decide the case.
   * @defaultValue off
   */
  readonly nodeCaptures?: 'off' | 'exec';
}

const clusterEntry = (kubeconfig: string, context: string, nodeCaptures: string) =>
  [
    `  - name: ${cluster}`,
    `    kubeconfig: { path: ${kubeconfig}, context: ${context} }`,
    `    channels: [${incidentChannel}]`,
    `    nodeCaptures: ${nodeCaptures}`,
  ].join('\n');

/** The bot stack on the lab: diagnosis as kproxy-worker, actions as kproxy-actions. */
export function labStack(o: LabStackOptions): Promise<BotStack> {
  return startBotStack({
    redisUrl: o.redisUrl,
    clusters: clusterEntry(o.kubeconfig, 'worker', o.nodeCaptures ?? 'off'),
    executeClusters: clusterEntry(o.kubeconfig, 'actions', 'off'),
    // A replaced kube-proxy is Ready and synced within seconds; a loaded machine gets 15 s
    // more. (A fault the action does not clear uses every attempt.)
    postFixWait: { attempts: 6, delayMs: 3000 },
    extraConfig:
      o.extraConfig ??
      [
        'approvals:',
        `  yellow: { approvers: { users: [${approver}] }, required: 1 }`,
        `  red: { approvers: { users: [${approver}] }, required: 1 }`,
      ].join('\n'),
  });
}

/** `/kproxy diagnose lab <target>` by the requester (or `user`); resolves with the report and its buttons. */
export async function reportFor(s: BotStack, target: string, user = requester) {
  const before = s.slack.reports().length;
  expect((await postCommand(s.botUrl, `diagnose ${cluster} ${target}`, { user })).status).toBe(200);
  const report = await waitFor('the report', () => s.slack.reports()[before]);
  return { report, ...controlsOf(s, report as StoredMessage) };
}

export type Report = Awaited<ReturnType<typeof reportFor>>;

const approvalOf = (s: BotStack, action: string) =>
  s.slack.messages.filter((m) => m.text?.startsWith(`Approval needed: ${action}`));

/** The latest version of a message (chat.update edits it in place). */
export const current = (s: BotStack, ts: string) => s.slack.messages.find((m) => m.ts === ts);

/**
 * The requester (or `user`) asks for `action` from the report (RED: with a written reason), and the
 * dry run that kproxy-actions planned from the lab shows on the approval message.
 */
export async function requestAction(
  s: BotStack,
  r: Report,
  action: string,
  reason?: string,
  user = requester,
): Promise<{ message: StoredMessage; approvalId: string; dryRun: string }> {
  const before = approvalOf(s, action).length;
  const value = r.button(action);
  expect(value, `a ${action} button on the report`).toBeTruthy();
  expect(await r.click(user, 'kproxy_request_action_0', value)).toBe(200);
  if (reason) {
    const view = await waitFor('the reason modal', () =>
      s.slack
        .callsOf('views.open')
        .map((c) => c.params.view as { callback_id: string; private_metadata: string })
        .filter((v) => v.callback_id === 'kproxy_red_reason')
        .at(-1),
    );
    const submitted = await postViewSubmission(s.botUrl, {
      user,
      callbackId: 'kproxy_red_reason',
      privateMetadata: view.private_metadata,
      values: { reason: { reason_input: { type: 'plain_text_input', value: reason } } },
    });
    expect(submitted.body).toEqual({});
  }
  const message = await waitFor('the approval message', () => approvalOf(s, action)[before]);
  const dryRun = await waitFor('the dry run', () => {
    // The plan replaces "reading the cluster…" (or the request closes itself, saying why).
    const text = JSON.stringify(current(s, message.ts)?.blocks ?? []);
    return text.includes('_reading the cluster') ? undefined : text;
  });
  return { message, approvalId: controlsOf(s, message).button(), dryRun };
}

/** A different person approves (RED: and types the target's name); resolves with the thread's outcome. */
export async function approve(
  s: BotStack,
  request: { message: StoredMessage; approvalId: string },
  action: string,
  o: { user?: string; confirm?: string } = {},
): Promise<string> {
  const user = o.user ?? approver;
  const { click } = controlsOf(s, request.message);
  expect(await click(user, 'kproxy_approve', request.approvalId)).toBe(200);
  if (o.confirm) {
    await waitFor('the confirmation modal', () =>
      s.slack
        .callsOf('views.open')
        .some((c) => (c.params.view as { callback_id: string }).callback_id === 'kproxy_red_confirm'),
    );
    const confirmed = await postViewSubmission(s.botUrl, {
      user,
      callbackId: 'kproxy_red_confirm',
      privateMetadata: request.approvalId,
      values: { confirm: { confirm_input: { type: 'plain_text_input', value: o.confirm } } },
    });
    expect(confirmed.body).toEqual({});
  }
  const outcome = (m: { text?: string; thread_ts?: string }) =>
    m.thread_ts === request.message.thread_ts &&
    (m.text?.startsWith(`:white_check_mark: Executed \`${action}\``) ||
      m.text?.startsWith(`:x: \`${action}\``));
  // A drain retries evictions a PodDisruptionBudget refuses for half a minute before it reports.
  const done = await waitFor('the execution outcome', () => s.slack.messages.find(outcome), 240_000);
  return done.text ?? '';
}

/** The thread's post-fix check line, once the re-diagnosis settled. */
export async function postFixCheck(s: BotStack, threadTs: string): Promise<string> {
  const line = await waitFor(
    'the post-fix check',
    () => s.slack.messages.find((m) => m.thread_ts === threadTs && /Post-fix check/.test(m.text ?? ''))?.text,
    240_000,
  );
  return line;
}

/** The audit entries of one approval, oldest first. */
export async function auditOf(s: BotStack, approvalId: string): Promise<AuditEntry[]> {
  const entries = await new ApprovalStore(s.redis).recentAudit(200, [cluster]);
  return entries.filter((e) => e.approval === approvalId).reverse();
}
