/**
 * Admission of a command in ONE Redis round trip (issue 16): the delivery dedupe (Slack
 * re-sends a request it thinks failed, with the same trigger id) and the per-user and
 * per-channel rate limits run in a single script call before the ack.
 *
 * The limits keep rate-limiter-flexible's semantics and keys, which kproxy used before
 * (`RateLimiterRedis`, its `incrTtlLuaScript`: a fixed window per key
 * `kproxy:rate:<scope>:<id>`, `SET key 0 EX window NX` then `INCRBY`, refused past `max`
 * with the window's remaining PTTL; the user's limit is asked first and a refusal there
 * leaves the channel's budget alone). That library runs one script call per limiter and
 * cannot share a call with the dedupe, so the ack waited for three round trips in a row;
 * here the same steps run inside one script.
 *
 * The same call queues the admitted command's start (`start`: appended to the start list,
 * which the worker side's mover hands to BullMQ, start-mover.ts): the command is durably
 * queued before it is acknowledged, and the bot has nothing left to do after its ack.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { evalBatched } from './eval-batch.js';

const admissionScript = `
local function consume(key, max, window)
  redis.call('SET', key, 0, 'EX', window, 'NX')
  local consumed = redis.call('INCRBY', key, 1)
  local ttl = redis.call('PTTL', key)
  if ttl == -1 then
    redis.call('EXPIRE', key, window)
    ttl = 1000 * tonumber(window)
  end
  if consumed > tonumber(max) then return ttl end
  return -1
end
if ARGV[7] == '1' then
  if not redis.call('SET', KEYS[3], '1', 'EX', ARGV[6], 'NX') then return {0, 0} end
end
if ARGV[1] == '1' then
  local wait = consume(KEYS[1], ARGV[2], ARGV[3])
  if wait >= 0 then return {2, wait} end
  wait = consume(KEYS[2], ARGV[4], ARGV[5])
  if wait >= 0 then return {2, wait} end
end
if ARGV[8] ~= '' then redis.call('RPUSH', KEYS[#KEYS], ARGV[8]) end
return {1, 0}
`;

export type Admission =
  | { readonly kind: 'admitted' }
  /** This delivery was handled already (a redelivery of the same trigger id). */
  | { readonly kind: 'duplicate' }
  /** A limit is reached: try again in this many seconds (at least 1). */
  | { readonly kind: 'limited'; readonly waitSeconds: number };

export const rateKeys = {
  user: (user: string) => `kproxy:rate:user:${user}`,
  channel: (channel: string) => `kproxy:rate:channel:${channel}`,
} as const;

/**
 * One script call (plain EVAL: one round trip even right after a Redis restart, when an
 * EVALSHA would first be answered NOSCRIPT; the calls of one event-loop turn share one
 * write, eval-batch.ts). `delivery`: the dedupe key and its TTL, if
 * this request is to be deduplicated. `start`: appended to the list `start.key` only when
 * the command is admitted (a duplicate or a limited command queues nothing). Throws when
 * Redis cannot be asked.
 */
export async function admit(
  redis: Redis,
  config: Config,
  user: string,
  channel: string,
  delivery?: { readonly key: string; readonly ttlSeconds: number },
  start?: { readonly key: string; readonly payload: string },
): Promise<Admission> {
  const { enabled, perUser, perChannel } = config.rateLimits;
  const keys = [
    rateKeys.user(user),
    rateKeys.channel(channel),
    ...(delivery ? [delivery.key] : []),
    ...(start ? [start.key] : []),
  ];
  const [outcome, waitMs] = (await evalBatched(redis, admissionScript, [
    keys.length,
    ...keys,
    enabled ? '1' : '0',
    perUser.max,
    perUser.windowSeconds,
    perChannel.max,
    perChannel.windowSeconds,
    delivery?.ttlSeconds ?? 0,
    delivery ? '1' : '0',
    start?.payload ?? '',
  ])) as [number, number];
  if (outcome === 0) return { kind: 'duplicate' };
  if (outcome === 2) return { kind: 'limited', waitSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  return { kind: 'admitted' };
}
