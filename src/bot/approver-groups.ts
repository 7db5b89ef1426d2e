/** Who is an approver by Slack user group, and `/kproxy audit [n]` for approvers. */
import type { Redis } from 'ioredis';
import { ApprovalStore } from '../approvals/store.js';
import type { Config } from '../config/config.js';
import { auditLines } from '../report/audit.js';
import { clustersForChannel } from './authorize.js';

export type GroupsClient = {
  usergroups: { users: { list(a: { usergroup: string }): Promise<{ users?: string[] }> } };
};

const groupCacheSeconds = 300;

/** The user's memberships among the policy's groups (usergroups.users.list, cached briefly). */
export async function groupsOf(
  deps: { readonly redis: Redis },
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

/**
 * `/kproxy audit [n]`: recent approval events, for users who may approve something, and only
 * those of the clusters the channel may diagnose. Everything recorded is shown as text:
 * reasons and details escaped (no links or mentions), only Slack user ids as mentions.
 */
export async function auditText(
  config: Config,
  redis: Redis,
  user: string,
  count: number,
  channel: string,
): Promise<string> {
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
  const clusters = clustersForChannel(config, channel);
  if (clusters.length === 0) return 'This channel may not diagnose any cluster, so it shows no audit trail.';
  const names = clusters.map((c) => `\`${c}\``).join(', ');
  const entries = await new ApprovalStore(redis).recentAudit(count, clusters);
  if (entries.length === 0) return `No approval events yet for ${names}.`;
  const lines = auditLines(entries);
  return [`*Last ${lines.length} approval events* (${names})`, ...lines].join('\n').slice(0, 3000);
}
