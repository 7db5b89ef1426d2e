/**
 * Posting pace (issue 16): a per-channel token bucket in Redis, shared by every process. A
 * quiet channel takes a thread's parent and its report at once; storms (many posts at
 * once, and the retries after a run of 429s) stay within the channel's rate, so the fake
 * Slack (one message per interval per channel, a burst of 3, as Slack allows short bursts:
 * https://api.slack.com/docs/rate-limits) never answers 429 for the pace.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { SlackPoster } from '../src/slack/poster.js';
import { FakeSlack } from './helpers/fake-slack.js';
import { flushRedis, recordCommands } from './helpers/redis-server.js';

const redisUrl = inject('redisUrl');
const cleanups: (() => Promise<unknown>)[] = [];
beforeEach(() => flushRedis(redisUrl));
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeSlack() {
  const slack = new FakeSlack();
  await slack.start();
  cleanups.push(() => slack.stop());
  return slack;
}

/** A poster on its own Redis connection, as each bot or worker process has. */
function poster(slack: FakeSlack, paceMs: number) {
  const redis = new Redis(redisUrl);
  cleanups.push(() => redis.quit());
  return new SlackPoster(redis, {
    token: 'xoxb-test-token',
    slackApiUrl: slack.apiUrl,
    paceMs,
    retryConfig: { retries: 0 },
  });
}

const channels = ['C0PACE0001', 'C0PACE0002'];

describe('posting pace', () => {
  it('a quiet channel takes a parent and its report at once (a burst, not one per interval)', async () => {
    const slack = await fakeSlack();
    // One message a minute: without a burst the second post would wait a minute.
    const p = poster(slack, 60_000);
    const parent = await p.post('C0QUIET001', { text: 'parent' });
    const report = await p.post('C0QUIET001', { text: 'report', threadTs: parent.ts });
    expect(report.ts).not.toBe(parent.ts);
    expect(slack.callsOf('chat.postMessage')).toHaveLength(2);
  });

  it('a storm from two processes stays within each channel’s rate: every post, no 429', async () => {
    const slack = await fakeSlack();
    slack.perChannelLimit = { perSecond: 4, burst: 3 };
    const posters = [poster(slack, 250), poster(slack, 250)];
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        posters[i % 2]?.post(channels[Math.floor(i / 2) % 2] as string, { text: `storm ${i}` }),
      ),
    );
    expect(slack.messages).toHaveLength(24);
    expect(slack.rateLimited).toEqual([]);
  });

  it('after a run of 429s the retries are paced too: no 429 for the pace once Slack answers', async () => {
    const slack = await fakeSlack();
    slack.perChannelLimit = { perSecond: 4, burst: 3 };
    // Every post is waiting out a 429 (Retry-After: 1) when the outage ends.
    slack.rateLimitWindow = { until: Date.now() + 3_000, method: /^chat\.postMessage$/, retryAfter: 1 };
    const p = poster(slack, 250);
    await Promise.all(
      Array.from({ length: 16 }, (_, i) => p.post(channels[i % 2] as string, { text: `after ${i}` })),
    );
    expect(slack.windowRateLimited).toBeGreaterThan(0);
    expect(slack.messages).toHaveLength(16);
    expect(slack.rateLimited).toEqual([]);
  });

  it('a backlog in one channel goes out whole, one Redis call per wait, not one per waiting post', async () => {
    const slack = await fakeSlack();
    const redis = new Redis(redisUrl);
    cleanups.push(() => redis.quit());
    const sent = recordCommands(redis);
    const p = new SlackPoster(redis, { token: 'xoxb-test-token', slackApiUrl: slack.apiUrl, paceMs: 100 });
    const posts = 12;
    await Promise.all(Array.from({ length: posts }, (_, i) => p.post('C0BACKLOG1', { text: `post ${i}` })));
    expect(slack.messages.map((m) => m.text).sort()).toEqual(
      Array.from({ length: posts }, (_, i) => `post ${i}`).sort(),
    );
    // Each post takes one token; each wait for one is one more call (at most).
    expect(sent.filter((name) => name === 'eval').length).toBeLessThanOrEqual(2 * posts);
  });
});
