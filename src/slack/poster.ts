/**
 * The Web API calls a worker makes, with Slack's limits respected: a 429 waits for its
 * `Retry-After` and tries again, for as long as Slack keeps limiting (up to a deadline of
 * many minutes: a rate limit delays a message, it must not lose it); 5xx and network errors
 * retry a bounded number of times with backoff; chat.postMessage is paced to about one per
 * second per channel across every worker (a Redis key per channel).
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
  /** Milliseconds between two posts into one channel. @defaultValue 1000 */
  readonly paceMs?: number;
  /** How long one call may keep waiting out 429s. @defaultValue 15 minutes */
  readonly rateLimitDeadlineMs?: number;
  readonly onRetry?: (method: string, reason: string) => void;
}

export class SlackPoster {
  readonly client: WebClient;
  private readonly paceMs: number;

  constructor(
    private readonly redis: Redis,
    options: SlackPosterOptions,
  ) {
    this.paceMs = options.paceMs ?? 1000;
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
    await this.pace(channel);
    const res = await this.limited('chat.postMessage', () =>
      this.client.chat.postMessage({
        channel,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks as never } : {}),
        ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
        ...(message.metadata ? { metadata: message.metadata } : {}),
        unfurl_links: false,
      }),
    );
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

  /** Waits until this process may post into the channel (at most one post per `paceMs`, all workers). */
  private async pace(channel: string): Promise<void> {
    const key = keys.pace(channel);
    for (;;) {
      if ((await this.redis.set(key, '1', 'PX', this.paceMs, 'NX')) === 'OK') return;
      const ttl = await this.redis.pttl(key);
      await new Promise((r) => setTimeout(r, Math.max(ttl, 20)));
    }
  }
}
