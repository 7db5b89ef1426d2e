/**
 * The Web API calls a worker makes, with Slack's limits respected: a 429 waits for its
 * `Retry-After` and tries again, for as long as Slack keeps limiting (up to a deadline of
 * many minutes: a rate limit delays a message, it must not lose it); 5xx and network errors
 * retry a bounded number of times with backoff.
 *
 * chat.postMessage is paced per channel across every process by a token bucket in Redis
 * (one script call per attempt). Slack: "Posting messages: 1 per second [per channel]. Short
 * bursts >1 allowed. If you attempt bursts, there is no guarantee that messages will be
 * delivered" (https://api.slack.com/docs/rate-limits, "Posting messages"; the Special tier
 * of https://api.slack.com/methods/chat.postMessage). The bucket refills one message per
 * `paceMs` and holds `burst` (2 by default: a thread's parent and its report go out at once
 * when the channel is quiet); Slack's burst size is not published, so kproxy takes less than
 * the burst Slack is seen to allow (3), keeping a message in hand for network jitter, and a
 * storm settles at one per second without a 429. A retry after a 429 takes a token again.
 */
import { ErrorCode, WebClient, type WebClientOptions } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { keys } from '../queue/jobs.js';

export interface PostedMessage {
  readonly channel: string;
  readonly ts: string;
}

export interface MessageMetadata {
  readonly event_type: string;
  readonly event_payload: Record<string, string | number | boolean>;
}

export interface SlackPosterOptions {
  readonly token: string;
  readonly slackApiUrl?: string | undefined;
  /** @defaultValue 5 retries, 1 s doubling to 30 s */
  readonly retryConfig?: WebClientOptions['retryConfig'];
  /** The Web API client's own messages (retries, warnings), as JSON lines (`boltLogger`). */
  readonly logger?: WebClientOptions['logger'];
  /** Milliseconds per message of a channel's budget (0: no pacing). @defaultValue 1000 */
  readonly paceMs?: number;
  /** Messages a quiet channel may take at once. @defaultValue 2 */
  readonly burst?: number;
  /** How long one call may keep waiting out 429s. @defaultValue 15 minutes */
  readonly rateLimitDeadlineMs?: number;
  readonly onRetry?: (method: string, reason: string) => void;
}

export class SlackPoster {
  readonly client: WebClient;
  private readonly paceMs: number;
  private readonly burst: number;

  constructor(
    private readonly redis: Redis,
    options: SlackPosterOptions,
  ) {
    this.paceMs = options.paceMs ?? 1000;
    this.burst = options.burst ?? 2;
    this.client = new WebClient(options.token, {
      ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
      retryConfig: options.retryConfig ?? { retries: 5, factor: 2, minTimeout: 1000, maxTimeout: 30_000 },
      // 429s come back to `limited` below: the SDK would count them against `retries`.
      rejectRateLimitedCalls: true,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    this.rateLimitDeadlineMs = options.rateLimitDeadlineMs ?? 15 * 60_000;
    this.onRetry = options.onRetry;
  }

  private readonly rateLimitDeadlineMs: number;
  private readonly onRetry: SlackPosterOptions['onRetry'];

  /** Runs a Web API call, waiting out every 429 (Retry-After) until the deadline. */
  private async limited<T>(method: string, call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.rateLimitDeadlineMs;
    for (;;) {
      try {
        return await call();
      } catch (error) {
        const e = error as { code?: string; retryAfter?: number };
        if (e.code !== ErrorCode.RateLimitedError || Date.now() >= deadline) throw error;
        const seconds = Math.max(1, e.retryAfter ?? 1);
        this.onRetry?.(method, `rate limited for ${seconds}s`);
        await new Promise((r) => setTimeout(r, seconds * 1000));
      }
    }
  }

  async post(
    channel: string,
    message: { text: string; blocks?: unknown[]; threadTs?: string; metadata?: MessageMetadata },
  ): Promise<PostedMessage> {
    // Each attempt takes its token: retries after a 429 must not arrive all at once.
    const res = await this.limited('chat.postMessage', async () => {
      await this.pace(channel);
      return this.client.chat.postMessage({
        channel,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks as never } : {}),
        ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
        ...(message.metadata ? { metadata: message.metadata } : {}),
        unfurl_links: false,
      });
    });
    return { channel: res.channel ?? channel, ts: res.ts as string };
  }

  async update(
    channel: string,
    ts: string,
    message: { text: string; blocks?: unknown[]; metadata?: MessageMetadata },
  ): Promise<void> {
    await this.limited('chat.update', () =>
      this.client.chat.update({
        channel,
        ts,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks as never } : {}),
        ...(message.metadata ? { metadata: message.metadata } : {}),
      }),
    );
  }

  /** Messages of a thread that carry kproxy metadata for a job (to find a report posted before a crash). */
  async findReport(channel: string, threadTs: string, jobId: string): Promise<string[]> {
    const res = await this.limited('conversations.replies', () =>
      this.client.conversations.replies({ channel, ts: threadTs, include_all_metadata: true, limit: 200 }),
    );
    return (res.messages ?? [])
      .filter(
        (m) =>
          (m as { metadata?: { event_payload?: { job_id?: string } } }).metadata?.event_payload?.job_id ===
          jobId,
      )
      .map((m) => m.ts as string);
  }

  async permalink(channel: string, ts: string): Promise<string | undefined> {
    try {
      return (await this.client.chat.getPermalink({ channel, message_ts: ts })).permalink;
    } catch {
      return undefined;
    }
  }

  /** The posts of this process waiting for a channel's token, in order (one asks Redis at a time). */
  private readonly lanes = new Map<string, Promise<void>>();

  /**
   * Waits until a message of the channel's budget is free (all processes share it). Within
   * a process the posts of a channel queue up and only the first asks Redis: a backlog of
   * thousands of posts costs one script call per channel per wait, not one per post.
   */
  private pace(channel: string): Promise<void> {
    if (this.paceMs <= 0) return Promise.resolve();
    const mine = (this.lanes.get(channel) ?? Promise.resolve()).then(() => this.takeToken(channel));
    const lane = mine.catch(() => undefined);
    this.lanes.set(channel, lane);
    void lane.then(() => {
      if (this.lanes.get(channel) === lane) this.lanes.delete(channel);
    });
    return mine;
  }

  private async takeToken(channel: string): Promise<void> {
    for (;;) {
      const waitMs = Number(
        await this.redis.eval(bucketScript, 1, keys.pace(channel), this.paceMs, this.burst),
      );
      if (waitMs <= 0) return;
      // A little spread, so the processes waiting for one channel do not all ask at once.
      await new Promise((r) => setTimeout(r, waitMs + Math.floor(Math.random() * 20)));
    }
  }
}

/**
 * The token bucket of one channel: ARGV[1] ms per message, ARGV[2] capacity. Returns 0 when
 * a message was taken, else the ms until one is free. Redis' clock (TIME), so every process
 * agrees; the key expires once the bucket would be full again.
 */
const bucketScript = `
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) / interval)
if tokens < 1 then return math.ceil((1 - tokens) * interval) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * interval) + 1000)
return 0
`;
