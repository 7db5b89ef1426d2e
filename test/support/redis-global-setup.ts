/**
 * Starts a private redis-server (Debian's) on a free loopback port for the test run and
 * provides its URL to the tests; stops it afterwards.
 */
import type { TestProject } from 'vitest/node';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let redis: RedisServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  redis = await startRedisServer({ args: ['--appendonly', 'no', '--maxmemory-policy', 'noeviction'] });
  project.provide('redisUrl', redis.url);
}

export async function teardown(): Promise<void> {
  await redis?.stop();
}
