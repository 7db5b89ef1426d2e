/** Who may diagnose what: channels per cluster, an optional user allowlist, and rate limits. */
import type { Redis } from 'ioredis';
import type { ClusterConfig, Config } from '../config/config.js';
import { keys } from '../queue/jobs.js';

export type Decision =
  | { readonly ok: true; readonly cluster: ClusterConfig }
  | { readonly ok: false; readonly reason: string };

export function authorize(config: Config, clusterName: string, channel: string, user: string): Decision {
  if (config.users && !config.users.allow.includes(user))
    return { ok: false, reason: 'you are not on the list of users allowed to run kproxy' };
  const cluster = config.clusters.find((c) => c.name === clusterName);
  if (!cluster?.channels.includes(channel)) {
    // Same answer for "unknown" and "not here", so a channel cannot probe for cluster names.
    return {
      ok: false,
      reason: `this channel may not diagnose a cluster named \`${clusterName}\` (see \`/kproxy clusters\`)`,
    };
  }
  return { ok: true, cluster };
}

export function clustersForChannel(config: Config, channel: string): string[] {
  return config.clusters.filter((c) => c.channels.includes(channel)).map((c) => c.name);
}

/**
 * Fixed-window counters per user and per channel. Returns the seconds to wait when a
 * limit is reached, else 0.
 */
export async function rateLimited(
  redis: Redis,
  config: Config,
  user: string,
  channel: string,
  now = Date.now(),
): Promise<number> {
  const limits = config.rateLimits;
  if (!limits.enabled) return 0;
  for (const [scope, id, limit] of [
    ['user', user, limits.perUser],
    ['channel', channel, limits.perChannel],
  ] as const) {
    const window = Math.floor(now / 1000 / limit.windowSeconds);
    const key = keys.rate(scope, id, window);
    const count = await redis.incr(key);
    if (count === 1) await redis.expire(key, limit.windowSeconds);
    if (count > limit.max) return limit.windowSeconds - (Math.floor(now / 1000) % limit.windowSeconds);
  }
  return 0;
}
