/**
 * The two-person gate in Slack. A report button (an opaque reference) becomes an approval
 * request in the thread; Approve/Deny clicks are checked — identity from Slack's signed
 * payload only, approvers by configuration (users and user groups, per rating and
 * cluster), never the requester, each once — and the threshold triggers exactly one
 * `execute` job. Every refused click gets an ephemeral reason and changes nothing.
 *
 * RED adds two steps (docs/safety.md): the requester writes a reason in a modal before the
 * request exists, and each approver types the target's name in a modal; the store accepts
 * a RED vote only with the exact name.
 */
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { mayApprove, policyFor } from '../approvals/policy.js';
import { type Approval, ApprovalStore, confirmationTarget, type VoteResult } from '../approvals/store.js';
import type { Config } from '../config/config.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { type ActionRef, enqueueExecution, keys, reportButtonTtlSeconds } from '../queue/jobs.js';
import type { SlackPoster } from '../slack/poster.js';
import { approvalBlocks, confirmModal, type Modal, reasonModal } from './approval-messages.js';
import { messageKey, refresh } from './approval-thread.js';
import { type GroupsClient, groupsOf } from './approver-groups.js';
import type { Interactions } from './interactions.js';
import { admitRequest, slotOf } from './request-admission.js';

export interface ApprovalDeps {
  readonly config: Config;
  readonly redis: Redis;
  readonly poster: SlackPoster;
  readonly executeQueue: Queue;
  readonly logger: Logger;
}

interface ButtonBody {
  user: { id: string };
  trigger_id?: string;
  container?: { channel_id?: string; message_ts?: string };
  channel?: { id?: string };
  message?: { ts?: string; thread_ts?: string };
  actions: { value?: string }[];
}

interface ViewBody {
  user: { id: string };
  view: {
    private_metadata?: string;
    state?: {
      values?: Record<
        string,
        Record<string, { value?: string | null; selected_options?: { value?: string }[] | null }>
      >;
    };
  };
}

type ViewsClient = { views: { open(a: { trigger_id: string; view: Modal }): Promise<unknown> } };

/** A RED request between its button and the reason modal's submission. */
const intentKey = (id: string) => `kproxy:red-intent:${id}`;
const reasonSchema = z
  .string()
  .trim()
  .min(10, 'Write at least 10 characters: what is broken and why this action now.')
  .max(500, 'Keep the reason under 500 characters.');

interface RedIntent {
  readonly refId: string;
  readonly user: string;
  readonly channel: string;
  readonly threadTs: string;
}

export function registerApprovals(interactions: Interactions, deps: ApprovalDeps): void {
  const store = new ApprovalStore(deps.redis);

  /** The request a vote names, if it exists and `user` may vote on it; else why not. */
  const mayVote = async (
    id: string,
    user: string,
    client: GroupsClient,
    { requesterMay }: { requesterMay: boolean },
  ): Promise<Approval | string> => {
    const approval = await store.get(id);
    if (!approval) return 'This approval request no longer exists.';
    if (requesterMay && approval.requester === user) return approval;
    const policy = policyFor(deps.config, approval.cluster, approval.safety);
    if (mayApprove(policy, user, await groupsOf(deps, client, policy.approvers.groups, user)))
      return approval;
    return `You are not an approver for ${approval.safety} actions on ${approval.cluster}; nothing changed.`;
  };

  /** Opens the request: approval message in the thread, then the dry-run plan job. */
  const openRequest = async (
    ref: ActionRef,
    user: string,
    channel: string,
    threadTs: string,
    reason: string | undefined,
    id: string,
    acceptEmptyDirDataLoss = false,
  ): Promise<void> => {
    const policy = policyFor(deps.config, ref.cluster, ref.safety);
    const approval = await store.create(
      {
        cluster: ref.cluster,
        action: ref.action,
        safety: ref.safety,
        node: ref.node ?? undefined,
        requester: user,
        reason,
        ...(acceptEmptyDirDataLoss ? { acceptEmptyDirDataLoss } : {}),
        evidence: ref.evidence,
        required: policy.required,
        expiresAt: Date.now() + policy.expiresMinutes * 60_000,
        jobId: ref.jobId,
        channel,
        threadTs,
      },
      id,
    );
    const posted = await deps.poster.post(channel, {
      ...approvalBlocks(approval, policy, undefined),
      threadTs,
    });
    await deps.redis.set(
      messageKey(approval.id),
      JSON.stringify({ channel: posted.channel, ts: posted.ts, ref }),
      'EX',
      7 * 24 * 3600,
    );
    await deps.executeQueue.add(
      'plan',
      { approvalId: approval.id },
      { jobId: `plan__${approval.id}`, removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } },
    );
  };

  /** Takes the report's one request slot for this action and target: a new id, or why not. */
  const reserve = async (ref: ActionRef): Promise<{ id: string } | { refused: string }> => {
    const id = randomUUID();
    const holder = await store.reserve(slotOf(ref), id, reportButtonTtlSeconds * 1000);
    if (!holder) return { id };
    const existing = await store.get(holder);
    return {
      refused: `\`${ref.action}\` was already requested from this report${existing ? ` (${existing.state})` : ''}: see its approval message in the thread. Run the diagnosis again for fresh actions.`,
    };
  };

  /** Message updates are best effort: the store, not the message, is the record. */
  const safeRefresh = (id: string, closing: string | undefined) =>
    refresh(deps, store, id, closing).catch((error) =>
      deps.logger.warn('approval message not updated', { approval: id, error: errorMessage(error) }),
    );

  /** What a vote does next; what to tell the voter (only them) comes back as text. */
  const afterVote = async (id: string, user: string, vote: VoteResult): Promise<string | undefined> => {
    deps.logger.info('audit', { event: 'approve_click', approval: id, by: user, outcome: vote.outcome });
    switch (vote.outcome) {
      case 'self':
        return 'You requested this action: another approver must approve it.';
      case 'duplicate':
        return 'Your approval is already counted.';
      case 'unconfirmed':
        return "That is not the target's name: type it exactly. Nothing was approved.";
      case 'expired':
        await safeRefresh(id, 'Expired: nobody approved in time. Nothing was changed.');
        return 'This request has expired; nothing was changed.';
      case 'already':
        return `This request is already ${vote.state}.`;
      case 'unknown':
        return 'This approval request no longer exists.';
      case 'counted':
        await safeRefresh(id, undefined);
        return `Counted: ${vote.count} of ${vote.required} approvals.`;
      case 'approved':
        // The vote put the request in the store's outbox: queue it now, before any Slack call;
        // if this fails the execute worker's sweep queues it. Message updates may then fail.
        await enqueueExecution(deps.executeQueue, id).catch((error) =>
          deps.logger.warn('execute job not queued; the sweep will', {
            approval: id,
            error: errorMessage(error),
          }),
        );
        await safeRefresh(id, `Approved by <@${user}> — executing.`);
        return undefined;
    }
  };

  interactions.action(/^kproxy_request_action_\d+$/, async ({ ack, body, respond, client }) => {
    await ack();
    const b = body as unknown as ButtonBody;
    const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
    try {
      const refId = b.actions[0]?.value ?? '';
      const raw = await deps.redis.get(keys.actionRef(refId));
      if (!raw)
        return void (await tell('This button has expired. Run the diagnosis again for fresh actions.'));
      const ref = JSON.parse(raw) as ActionRef;
      if (ref.blockedBy) return void (await tell(`\`${ref.action}\` is refused: ${ref.blockedBy}`));
      const channel = b.container?.channel_id ?? b.channel?.id ?? '';
      const threadTs = b.message?.thread_ts ?? b.message?.ts ?? b.container?.message_ts ?? '';
      const admitted = await admitRequest(deps, store, ref, b.user.id, channel);
      if (!admitted.ok) return void (await tell(admitted.reason));
      if (ref.safety !== 'RED') {
        const slot = await reserve(ref);
        if ('refused' in slot) return void (await tell(slot.refused));
        return void (await openRequest(ref, b.user.id, channel, threadTs, undefined, slot.id));
      }
      // RED: the requester writes why first (a modal); the request opens on submission.
      const intent = randomUUID();
      await deps.redis.set(
        intentKey(intent),
        JSON.stringify({ refId, user: b.user.id, channel, threadTs } satisfies RedIntent),
        'EX',
        900,
      );
      await (client as unknown as ViewsClient).views.open({
        trigger_id: b.trigger_id ?? '',
        view: reasonModal(intent, ref),
      });
    } catch (error) {
      deps.logger.error('approval request failed', { error: errorMessage(error) });
      await tell(':warning: kproxy could not open the approval request; nothing was changed.');
    }
  });

  interactions.view('kproxy_red_reason', async ({ ack, body }) => {
    const b = body as unknown as ViewBody;
    const refuse = (text: string) => ack({ response_action: 'errors', errors: { reason: text } });
    const raw = await deps.redis.get(intentKey(b.view.private_metadata ?? ''));
    const intent = raw ? (JSON.parse(raw) as RedIntent) : undefined;
    const refRaw = intent ? await deps.redis.get(keys.actionRef(intent.refId)) : null;
    if (!intent || !refRaw || intent.user !== b.user.id)
      return void (await refuse('This request form has expired. Run the diagnosis again.'));
    const reason = reasonSchema.safeParse(b.view.state?.values?.reason?.reason_input?.value ?? '');
    if (!reason.success) return void (await refuse(reason.error.issues[0]?.message ?? 'Invalid reason.'));
    // Claim the form once: a retried submission must not open a second request.
    if ((await deps.redis.del(intentKey(b.view.private_metadata ?? ''))) === 0) return void (await ack());
    const ref = JSON.parse(refRaw) as ActionRef;
    const slot = await reserve(ref);
    if ('refused' in slot) return void (await refuse(slot.refused));
    await ack();
    try {
      const acceptsDataLoss =
        ref.action === 'drain-node' &&
        (b.view.state?.values?.data_loss?.data_loss_input?.selected_options ?? []).some(
          (o) => o.value === 'accept',
        );
      await openRequest(
        ref,
        intent.user,
        intent.channel,
        intent.threadTs,
        reason.data,
        slot.id,
        acceptsDataLoss,
      );
    } catch (error) {
      deps.logger.error('RED approval request failed', { error: errorMessage(error) });
    }
  });

  interactions.action('kproxy_approve', async ({ ack, body, respond, client }) => {
    await ack();
    const b = body as unknown as ButtonBody;
    const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
    const id = b.actions[0]?.value ?? '';
    const approval = await mayVote(id, b.user.id, client, { requesterMay: false });
    if (typeof approval === 'string') return void (await tell(approval));
    if (approval.safety === 'RED') {
      // Refuse what the store would refuse before asking anyone to type a name.
      const early = earlyRefusal(approval, b.user.id);
      if (early) return void (await tell(early));
      await (client as unknown as ViewsClient).views.open({
        trigger_id: b.trigger_id ?? '',
        view: confirmModal(approval),
      });
      return;
    }
    const reply = await afterVote(id, b.user.id, await store.approve(id, b.user.id));
    if (reply) await tell(reply);
  });

  interactions.view('kproxy_red_confirm', async ({ ack, body, client }) => {
    const b = body as unknown as ViewBody;
    const id = b.view.private_metadata ?? '';
    const refuse = (text: string) => ack({ response_action: 'errors', errors: { confirm: text } });
    const approval = await mayVote(id, b.user.id, client, { requesterMay: false });
    if (typeof approval === 'string') return void (await refuse(approval));
    const typed = (b.view.state?.values?.confirm?.confirm_input?.value ?? '').trim();
    const vote = await store.approve(id, b.user.id, typed);
    if (vote.outcome === 'unconfirmed')
      return void (await refuse(`Type exactly \`${confirmationTarget(approval)}\` to approve.`));
    if (vote.outcome !== 'approved' && vote.outcome !== 'counted') {
      const why = await afterVote(id, b.user.id, vote);
      return void (await refuse(why ?? 'Nothing was approved.'));
    }
    await ack();
    await afterVote(id, b.user.id, vote);
  });

  interactions.action('kproxy_deny', async ({ ack, body, respond, client }) => {
    await ack();
    const b = body as unknown as ButtonBody;
    const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
    const id = b.actions[0]?.value ?? '';
    // The requester may withdraw their own request.
    const approval = await mayVote(id, b.user.id, client, { requesterMay: true });
    if (typeof approval === 'string') return void (await tell(approval));
    const isRequester = approval.requester === b.user.id;
    const outcome = await store.deny(id, b.user.id);
    deps.logger.info('audit', { event: 'deny_click', approval: id, by: b.user.id, outcome });
    if (outcome === 'denied')
      await safeRefresh(
        id,
        `${isRequester ? 'Withdrawn' : 'Denied'} by <@${b.user.id}>. Nothing was changed.`,
      );
    else await tell(`This request is already ${outcome}.`);
  });
}

/** RED approvals: what the store would refuse anyway, said before the confirmation modal. */
function earlyRefusal(a: Approval, user: string): string | undefined {
  if (a.state !== 'pending') return `This request is already ${a.state}.`;
  if (a.expiresAt < Date.now()) return 'This request has expired; nothing was changed.';
  if (a.requester === user) return 'You requested this action: another approver must approve it.';
  if (a.approvers.includes(user)) return 'Your approval is already counted.';
  return undefined;
}
