/**
 * Who may ask for an action, decided before anything is created: the same rules as
 * commands (user allowlist, the cluster's channels, the rate limits), a bound on the
 * requests one user has waiting, and one open request per report, action and target.
 */
import type { Redis } from 'ioredis';
import type { ApprovalStore } from '../approvals/store.js';
import type { Config } from '../config/config.js';
import type { ActionRef } from '../queue/jobs.js';
import { authorize, rateLimited } from './authorize.js';

export type Admission = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export async function admitRequest(
  deps: { readonly config: Config; readonly redis: Redis },
  store: ApprovalStore,
  ref: ActionRef,
  user: string,
  channel: string,
): Promise<Admission> {
  const decision = authorize(deps.config, ref.cluster, channel, user);
  if (!decision.ok) return { ok: false, reason: `:no_entry: ${decision.reason}; nothing was requested.` };
  const wait = await rateLimited(deps.redis, deps.config, user, channel);
  if (wait > 0) return { ok: false, reason: `:turtle: Too many requests; try again in ${wait}s.` };
  const open = await store.openCount(user);
  if (open >= deps.config.rateLimits.openRequestsPerUser)
    return {
      ok: false,
      reason: `You already have ${open} request(s) waiting for approval; wait for them (or withdraw one) first.`,
    };
  return { ok: true };
}

/** The slot a request takes: one per diagnosis (report), action and target node. */
export function slotOf(ref: ActionRef): string {
  return `${ref.jobId}:${ref.action}:${ref.node ?? '-'}`;
}
