/** The command rate limits (one script call with the delivery dedupe, src/bot/admission.ts) against a real Redis. */
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { admit } from '../src/bot/admission.js';
import { rateLimited } from '../src/bot/authorize.js';
import { parseConfig } from '../src/config/config.js';
import { recordCommands } from './helpers/redis-server.js';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());
beforeEach(() => redis.flushdb());

const config = (limits: string) =>
  parseConfig(
    `clusters:\n  - name: prod-east\n    inCluster: true\n    channels: [C0INCIDENT1]\nrateLimits: ${limits}\n`,
    'test.yaml',
  );

describe('rateLimited', () => {
  it('admits exactly the per-channel budget under concurrent requests, then says how long to wait', async () => {
    const c = config(
      '{ perUser: { max: 100, windowSeconds: 60 }, perChannel: { max: 20, windowSeconds: 60 } }',
    );
    const waits = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        rateLimited(redis, c, `U0USER${String(i).padStart(4, '0')}`, 'C0INCIDENT1'),
      ),
    );
    expect(waits.filter((w) => w === 0)).toHaveLength(20);
    for (const w of waits.filter((x) => x > 0)) expect(w).toBeLessThanOrEqual(60);
    // Another channel has its own budget.
    expect(await rateLimited(redis, c, 'U0USER9999', 'C0OTHER0001')).toBe(0);
  });

  it('limits each user on their own, and not at all when disabled', async () => {
    const c = config(
      '{ perUser: { max: 2, windowSeconds: 30 }, perChannel: { max: 100, windowSeconds: 60 } }',
    );
    expect(await rateLimited(redis, c, 'U0ONE', 'C0INCIDENT1')).toBe(0);
    expect(await rateLimited(redis, c, 'U0ONE', 'C0INCIDENT1')).toBe(0);
    expect(await rateLimited(redis, c, 'U0ONE', 'C0INCIDENT1')).toBeGreaterThan(0);
    expect(await rateLimited(redis, c, 'U0TWO', 'C0INCIDENT1')).toBe(0);
    const off = config('{ enabled: false, perUser: { max: 1, windowSeconds: 30 } }');
    for (let i = 0; i < 5; i++) expect(await rateLimited(redis, off, 'U0ONE', 'C0INCIDENT1')).toBe(0);
  });

  it('throws when Redis cannot be asked (the bot tells the user), never admits silently', async () => {
    const down = new Redis('redis://127.0.0.1:9', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    down.on('error', () => undefined);
    const c = config('{ perUser: { max: 2, windowSeconds: 30 } }');
    await expect(rateLimited(down, c, 'U0ONE', 'C0INCIDENT1')).rejects.toThrow();
    down.disconnect();
  });
});

describe('admit (the ack path: dedupe and both limits)', () => {
  it('is one Redis command, even right after the script cache is flushed (a restarted Redis)', async () => {
    const c = config('{ perUser: { max: 1, windowSeconds: 60 } }');
    const counted = new Redis(inject('redisUrl'));
    await counted.script('FLUSH');
    const sent = recordCommands(counted);
    const delivery = { key: 'kproxy:delivery:1.2.3', ttlSeconds: 600 };
    expect(await admit(counted, c, 'U0ONE', 'C0INCIDENT1', delivery)).toEqual({ kind: 'admitted' });
    expect(sent).toEqual(['eval']);
    // The redelivery is recognised in the same single call, and costs the user no point.
    expect(await admit(counted, c, 'U0ONE', 'C0INCIDENT1', delivery)).toEqual({ kind: 'duplicate' });
    expect(sent).toEqual(['eval', 'eval']);
    const limited = await admit(counted, c, 'U0ONE', 'C0INCIDENT1', {
      ...delivery,
      key: 'kproxy:delivery:4',
    });
    expect(limited).toMatchObject({ kind: 'limited' });
    expect(limited.kind === 'limited' && limited.waitSeconds).toBeGreaterThanOrEqual(1);
    // The user's refusal left the channel's budget alone (the user is asked first).
    expect(await redis.get('kproxy:rate:channel:C0INCIDENT1')).toBe('1');
    await counted.quit();
  });
});
