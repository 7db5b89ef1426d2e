/**
 * The approval message in the thread: where it is (kept in Redis with the action it stands
 * for and the dry-run plan), and re-rendering it after every change — by the bot on a click,
 * by the execute worker on a plan or a result, by the expiry sweep.
 */
import type { Redis } from 'ioredis';
import { policyFor } from '../approvals/policy.js';
import type { Approval, ApprovalStore } from '../approvals/store.js';
import type { Config } from '../config/config.js';
import type { ActionRef } from '../queue/jobs.js';
import type { SlackPoster } from '../slack/poster.js';
import { approvalBlocks, slackTime } from './approval-messages.js';

export const messageKey = (id: string) => `kproxy:approval:${id}:message`;

/** Re-renders the approval message (who approved so far, or how it ended). */
export async function refresh(
  deps: { readonly config: Config; readonly redis: Redis; readonly poster: SlackPoster },
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
    approvalBlocks(
      approval,
      policy,
      plan ?? where.plan,
      closing ? `${closing} · ${slackTime(Date.now())}` : closingOf(approval),
    ),
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
