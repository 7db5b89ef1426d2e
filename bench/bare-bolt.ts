/**
 * The ack bench's floor: a bare Bolt app on the same receiver kproxy uses (HTTPReceiver,
 * the same signing secret, body limit, server timeouts and bot-token authorization),
 * whose `/kproxy` handler only acknowledges. Run as its own process (like kproxy's);
 * prints `listening <port>` once it answers. With BARE_BOLT_REDIS_URL the handler first
 * makes one Redis round trip (`EVAL "return 1" 0`): the floor of any ack that must ask
 * Redis first, as kproxy's one admission call does (ack-latency.ts runs it beside the bare app unless BENCH_ROUND_TRIP=0).
 */
import { App, HTTPReceiver } from '@slack/bolt';
import { Redis } from 'ioredis';
import { listenBot, slackBodyLimitBytes } from '../src/bot/app.js';
import { boltLogger } from '../src/bot/bolt-logger.js';
import { botTokenAuthorize } from '../src/bot/bot-token-authorize.js';
import { parseEnv } from '../src/config/config.js';
import { createLogger } from '../src/log.js';

const env = parseEnv(process.env, 'bot');
const clientOptions = { ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}) };
const logger = boltLogger(createLogger('bare-bolt', () => undefined));
const app = new App({
  authorize: botTokenAuthorize(env.SLACK_BOT_TOKEN, clientOptions),
  receiver: new HTTPReceiver({
    signingSecret: env.SLACK_SIGNING_SECRET as string,
    endpoints: '/slack/events',
    bodyLimit: slackBodyLimitBytes,
    logger,
  }),
  clientOptions,
  logger,
});
const redisUrl = process.env.BARE_BOLT_REDIS_URL;
const redis = redisUrl ? new Redis(redisUrl, { enableOfflineQueue: false }) : undefined;
if (redis) await new Promise((resolve) => redis.once('ready', resolve));
app.command('/kproxy', async ({ ack }) => {
  await redis?.eval('return 1', 0);
  await ack();
});
const port = await listenBot(app, env);
process.stdout.write(`listening ${port}\n`);
process.on('SIGTERM', () => void app.stop().then(() => process.exit(0)));
