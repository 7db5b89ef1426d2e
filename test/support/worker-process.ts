/**
 * A diagnose worker in its own process, for the crash test (killed with SIGKILL mid-job).
 * Configuration comes from the environment the test sets.
 */
import { Redis } from 'ioredis';
import { parseConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log.js';
import { SlackPoster } from '../../src/slack/poster.js';
import { startDiagnoseWorker } from '../../src/workers/diagnose-worker.js';

const env = process.env as Record<string, string>;
const config = parseConfig(env.KPROXY_TEST_CONFIG_YAML ?? '', 'test');
const redis = new Redis(env.REDIS_URL ?? '');
const poster = new SlackPoster(redis, {
  token: 'xoxb-test-token',
  slackApiUrl: env.SLACK_API_URL,
  paceMs: 20,
});
const worker = startDiagnoseWorker({
  config,
  redis,
  connection: new Redis(env.REDIS_URL ?? '', { maxRetriesPerRequest: null }),
  poster,
  logger: createLogger('worker-process', () => undefined),
  workerOptions: { prefix: env.BULLMQ_PREFIX ?? '', lockDuration: 1000, stalledInterval: 500 },
});
worker.on('active', () => process.stdout.write('active\n'));
