/** Who may diagnose what: channels per cluster, an optional user allowlist, and rate limits. */
import type { Redis } from 'ioredis';
import type { ClusterConfig, Config } from '../config/config.js';
import { admit } from './admission.js';

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
 * Per-user, then per-channel limits, in one script call (admission.ts). Returns the seconds
 * to wait when a limit is reached, else 0. Throws when Redis cannot be asked (the caller
 * says so to the user).
 */
export async function rateLimited(
  redis: Redis,
  config: Config,
  user: string,
  channel: string,
): Promise<number> {
  if (!config.rateLimits.enabled) return 0;
  const admission = await admit(redis, config, user, channel);
  return admission.kind === 'limited' ? admission.waitSeconds : 0;
}
