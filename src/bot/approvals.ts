/**
 * The two-person gate in Slack. A report button (an opaque reference) becomes an approval
 * request in the thread; Approve/Deny clicks are checked — identity from Slack's signed
 * payload only, approvers by configuration (users and user groups, per rating and
 * cluster), never the requester, each once — and the threshold triggers exactly one
 * `execute` job. Every refused click gets an ephemeral reason and changes nothing.
 */
import type { App } from '@slack/bolt';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { mayApprove, policyFor } from '../approvals/policy.js';
import { type Approval, ApprovalStore } from '../approvals/store.js';
import type { Config } from '../config/config.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { type ActionRef, keys } from '../queue/jobs.js';
import type { SlackPoster } from '../slack/poster.js';
import { approvalBlocks } from './approval-messages.js';

export interface ApprovalDeps {
  readonly config: Config;
  readonly redis: Redis;
  readonly poster: SlackPoster;
  readonly executeQueue: Queue;
  readonly logger: Logger;
}

interface ButtonBody {
  user: { id: string };
  container?: { channel_id?: string; message_ts?: string };
  channel?: { id?: string };
  message?: { ts?: string; thread_ts?: string };
  actions: { value?: string }[];
}

type GroupsClient = {
  usergroups: { users: { list(a: { usergroup: string }): Promise<{ users?: string[] }> } };
};

const messageKey = (id: string) => `kproxy:approval:${id}:message`;
const groupCacheSeconds = 300;

export function registerApprovals(app: App, deps: ApprovalDeps): void {
  const store = new ApprovalStore(deps.redis);

  /** The request a vote button names, if it exists and `user` may vote on it; else says why. */
  const mayVote = async (
    id: string,
    user: string,
    client: GroupsClient,
    tell: (text: string) => Promise<unknown>,
    { requesterMay }: { requesterMay: boolean },
  ): Promise<Approval | undefined> => {
    const approval = await store.get(id);
    if (!approval) return void (await tell('This approval request no longer exists.'));
    if (requesterMay && approval.requester === user) return approval;
    const policy = policyFor(deps.config, approval.cluster, approval.safety);
    if (mayApprove(policy, user, await groupsOf(deps, client, policy.approvers.groups, user)))
      return approval;
    return void (await tell(
      `You are not an approver for ${approval.safety} actions on ${approval.cluster}; nothing changed.`,
    ));
  };

  app.action(/^kproxy_request_action_\d+$/, async ({ ack, body, respond }) => {
    await ack();
    const b = body as unknown as ButtonBody;
    const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
    try {
      const raw = await deps.redis.get(keys.actionRef(b.actions[0]?.value ?? ''));
      if (!raw)
        return void (await tell('This button has expired. Run the diagnosis again for fresh actions.'));
      const ref = JSON.parse(raw) as ActionRef;
      if (ref.safety === 'RED') {
        return void (await tell(
          `\`${ref.action}\` is RED: it needs a written reason and a typed confirmation, which this kproxy version does not collect yet. Follow the report by hand.`,
        ));
      }
      const policy = policyFor(deps.config, ref.cluster, ref.safety);
      const channel = b.container?.channel_id ?? b.channel?.id ?? '';
      const threadTs = b.message?.thread_ts ?? b.message?.ts ?? b.container?.message_ts ?? '';
      const approval = await store.create({
        cluster: ref.cluster,
        action: ref.action,
        safety: ref.safety,
        node: ref.node ?? undefined,
        requester: b.user.id,
        required: policy.required,
        expiresAt: Date.now() + policy.expiresMinutes * 60_000,
        jobId: ref.jobId,
        channel,
        threadTs,
      });
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
    } catch (error) {
      deps.logger.error('approval request failed', { error: errorMessage(error) });
      await tell(':warning: kproxy could not open the approval request; nothing was changed.');
    }
  });

  app.action('kproxy_approve', async ({ ack, body, respond, client }) => {
    await ack();
    const b = body as unknown as ButtonBody;
    const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
    const id = b.actions[0]?.value ?? '';
    if (!(await mayVote(id, b.user.id, client, tell, { requesterMay: false }))) return;
    const vote = await store.approve(id, b.user.id);
    deps.logger.info('audit', { event: 'approve_click', approval: id, by: b.user.id, outcome: vote.outcome });
    switch (vote.outcome) {
      case 'self':
        return void (await tell('You requested this action: another approver must approve it.'));
      case 'duplicate':
        return void (await tell('Your approval is already counted.'));
      case 'expired':
        await refresh(deps, store, id, 'Expired: nobody approved in time. Nothing was changed.');
        return void (await tell('This request has expired; nothing was changed.'));
      case 'already':
        return void (await tell(`This request is already ${vote.state}.`));
      case 'unknown':
        return void (await tell('This approval request no longer exists.'));
      case 'counted':
        await refresh(deps, store, id, undefined);
        return void (await tell(`Counted: ${vote.count} of ${vote.required} approvals.`));
      case 'approved':
        await refresh(deps, store, id, `Approved by <@${b.user.id}> — executing.`);
        await deps.executeQueue.add(
          'execute',
          { approvalId: id },
          {
            jobId: `exec__${id}`,
            attempts: 1,
            removeOnComplete: { age: 24 * 3600 },
            removeOnFail: { age: 7 * 24 * 3600 },
          },
        );
        return;
    }
  });

  app.action('kproxy_deny', async ({ ack, body, respond, client }) => {
    await ack();
    const b = body as unknown as ButtonBody;
    const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
    const id = b.actions[0]?.value ?? '';
    // The requester may withdraw their own request.
    const approval = await mayVote(id, b.user.id, client, tell, { requesterMay: true });
    if (!approval) return;
    const isRequester = approval.requester === b.user.id;
    const outcome = await store.deny(id, b.user.id);
    deps.logger.info('audit', { event: 'deny_click', approval: id, by: b.user.id, outcome });
    if (outcome === 'denied')
      await refresh(
        deps,
        store,
        id,
        `${isRequester ? 'Withdrawn' : 'Denied'} by <@${b.user.id}>. Nothing was changed.`,
      );
    else await tell(`This request is already ${outcome}.`);
  });
}

/** Re-renders the approval message (who approved so far, or how it ended). */
export async function refresh(
  deps: Pick<ApprovalDeps, 'config' | 'redis' | 'poster'>,
  store: ApprovalStore,
  id: string,
  closing: string | undefined,
  plan?: string,
): Promise<void> {
  const [approval, raw] = await Promise.all([store.get(id), deps.redis.get(messageKey(id))]);
  if (!approval || !raw) return;
  const where = JSON.parse(raw) as { channel: string; ts: string; plan?: string };
  if (plan !== undefined) await deps.redis.set(messageKey(id), JSON.stringify({ ...where, plan }), 'KEEPTTL');
  const policy = policyFor(deps.config, approval.cluster, approval.safety);
  await deps.poster.update(
    where.channel,
    where.ts,
    approvalBlocks(approval, policy, plan ?? where.plan, closing ?? closingOf(approval)),
  );
}

function closingOf(a: Approval): string | undefined {
  return a.state === 'pending' ? undefined : `State: ${a.state}`;
}

export async function approvalMessage(
  redis: Redis,
  id: string,
): Promise<{ channel: string; ts: string; ref: ActionRef; plan?: string } | undefined> {
  const raw = await redis.get(messageKey(id));
  return raw
    ? (JSON.parse(raw) as { channel: string; ts: string; ref: ActionRef; plan?: string })
    : undefined;
}

/** The user's memberships among the policy's groups (usergroups.users.list, cached briefly). */
async function groupsOf(
  deps: Pick<ApprovalDeps, 'redis'>,
  client: GroupsClient,
  groups: readonly string[],
  user: string,
): Promise<string[]> {
  const member: string[] = [];
  for (const group of groups) {
    const key = `kproxy:usergroup:${group}`;
    let users = await deps.redis.smembers(key);
    if (users.length === 0) {
      users =
        (await client.usergroups.users.list({ usergroup: group }).catch(() => ({ users: [] as string[] })))
          .users ?? [];
      if (users.length > 0)
        await deps.redis
          .multi()
          .sadd(key, ...users)
          .expire(key, groupCacheSeconds)
          .exec();
    }
    if (users.includes(user)) member.push(group);
  }
  return member;
}

/** `/kproxy audit [n]`: recent approval events, for users who may approve something. */
export async function auditText(config: Config, redis: Redis, user: string, count: number): Promise<string> {
  const policies = [
    config.approvals,
    ...config.clusters.map((c) => c.approvals).filter((p) => p !== undefined),
  ];
  const listed = policies.some(
    (p) => p.yellow.approvers.users.includes(user) || p.red.approvers.users.includes(user),
  );
  const groups = [
    ...new Set(policies.flatMap((p) => [...p.yellow.approvers.groups, ...p.red.approvers.groups])),
  ];
  const inGroup = (await Promise.all(groups.map((g) => redis.sismember(`kproxy:usergroup:${g}`, user)))).some(
    (m) => m === 1,
  );
  if (!listed && !inGroup) return ':no_entry: The audit trail is shown to approvers only.';
  const entries = await new ApprovalStore(redis).recentAudit(count);
  if (entries.length === 0) return 'No approval events yet.';
  return [
    `*Last ${entries.length} approval events*`,
    ...entries.map(
      (e) =>
        `${new Date(e.at).toISOString()} \`${e.type}\` ${e.approval.slice(0, 8)} by <@${e.by}>${e.detail ? ` — ${e.detail}` : ''}`,
    ),
  ]
    .join('\n')
    .slice(0, 3000);
}
