/** Who may diagnose what: channels per cluster, an optional user allowlist, and rate limits. */
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { ClusterConfig, Config } from '../config/config.js';

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

interface Limiters {
  readonly user: RateLimiterRedis;
  readonly channel: RateLimiterRedis;
}

/** One pair of limiters per Redis connection and configuration (they hold no state of their own). */
const limitersFor = new WeakMap<Redis, WeakMap<Config, Limiters>>();

function limiters(redis: Redis, config: Config): Limiters {
  const byConfig = limitersFor.get(redis) ?? new WeakMap<Config, Limiters>();
  limitersFor.set(redis, byConfig);
  const existing = byConfig.get(config);
  if (existing) return existing;
  const limiter = (scope: string, limit: { max: number; windowSeconds: number }) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `kproxy:rate:${scope}`,
      points: limit.max,
      duration: limit.windowSeconds,
    });
  const made = {
    user: limiter('user', config.rateLimits.perUser),
    channel: limiter('channel', config.rateLimits.perChannel),
  };
  byConfig.set(config, made);
  return made;
}

/**
 * Per-user, then per-channel limits (rate-limiter-flexible: one atomic script call per
 * limit). Returns the seconds to wait when a limit is reached, else 0. Throws when Redis
 * cannot be asked (the caller says so to the user).
 */
export async function rateLimited(
  redis: Redis,
  config: Config,
  user: string,
  channel: string,
): Promise<number> {
  if (!config.rateLimits.enabled) return 0;
  const { user: perUser, channel: perChannel } = limiters(redis, config);
  for (const [limiter, key] of [
    [perUser, user],
    [perChannel, channel],
  ] as const) {
    try {
      await limiter.consume(key);
    } catch (refusal) {
      if (refusal instanceof RateLimiterRes) return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      throw refusal;
    }
  }
  return 0;
}
