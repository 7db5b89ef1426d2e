/**
 * Buttons and modals behind one Bolt action listener and one view listener (interactions.ts,
 * issue 16): each interaction reaches the handler whose id matches, exactly as when each
 * handler was its own listener, through a real Bolt App's processEvent. And the bot's App
 * keeps no Bolt conversation store (never read by kproxy; Bolt's default costs every request).
 */
import { App, type Receiver } from '@slack/bolt';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { createBot } from '../src/bot/app.js';
import { Interactions } from '../src/bot/interactions.js';
import { parseConfig, parseEnv } from '../src/config/config.js';
import { createLogger } from '../src/log.js';
import { Metrics, metricHelp } from '../src/metrics.js';
import { SlackPoster } from '../src/slack/poster.js';

/** A real Bolt App without a listener of its own: requests go in through processEvent. */
function appWith(interactions: Interactions): App {
  const receiver: Receiver = {
    init: () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
  };
  const app = new App({ receiver, authorize: async () => ({ botToken: 'xoxb-test', teamId: 'T0TEST' }) });
  interactions.install(app);
  return app;
}

async function deliver(app: App, body: Record<string, unknown>): Promise<{ acked: boolean }> {
  let acked = false;
  await app.processEvent({
    body,
    ack: async () => {
      acked = true;
    },
  });
  return { acked };
}

const click = (actionId: string) => ({
  type: 'block_actions',
  team: { id: 'T0TEST' },
  user: { id: 'U0ONCALL01', team_id: 'T0TEST' },
  trigger_id: '1.2.3',
  actions: [{ type: 'button', action_id: actionId, block_id: 'b', value: 'v', action_ts: '1' }],
});
const modal = (type: 'view_submission' | 'view_closed', callbackId: string) => ({
  type,
  team: { id: 'T0TEST' },
  user: { id: 'U0ONCALL01', team_id: 'T0TEST' },
  view: { id: 'V1', callback_id: callbackId, private_metadata: '', state: { values: {} } },
});

describe('interactions behind one listener each', () => {
  it('each button and submission reaches the handler whose id matches, and only that one', async () => {
    const called: string[] = [];
    const i = new Interactions();
    const handle = (name: string) => async (args: { ack: () => Promise<void> }) => {
      called.push(name);
      await args.ack();
    };
    i.action(/^kproxy_request_action_\d+$/, handle('request'));
    i.action('kproxy_approve', handle('approve'));
    i.action(/^(?!kproxy_(approve|deny|request_action_\d+)$)/, handle('unknown action'));
    i.view('kproxy_red_reason', handle('reason'));
    i.view(/^(?!kproxy_red_(reason|confirm)$)/, handle('unknown modal'));
    const app = appWith(i);

    expect(await deliver(app, click('kproxy_approve'))).toEqual({ acked: true });
    expect(await deliver(app, click('kproxy_request_action_12'))).toEqual({ acked: true });
    expect(await deliver(app, click('something_else'))).toEqual({ acked: true });
    expect(await deliver(app, modal('view_submission', 'kproxy_red_reason'))).toEqual({ acked: true });
    expect(await deliver(app, modal('view_submission', 'other'))).toEqual({ acked: true });
    expect(called).toEqual(['approve', 'request', 'unknown action', 'reason', 'unknown modal']);
  });

  it('an id no handler claims, and a closed modal, reach no handler and are not acknowledged (as with no listener)', async () => {
    const called: string[] = [];
    const i = new Interactions();
    i.action(/^(?!kproxy_(approve|deny|request_action_\d+)$)/, async ({ ack }) => {
      called.push('unknown action');
      await ack();
    });
    i.view(/^(?!kproxy_red_(reason|confirm)$)/, async ({ ack }) => {
      called.push('unknown modal');
      await ack();
    });
    const app = appWith(i);
    // Without the approvals (no execute queue), their ids were matched by no listener.
    expect(await deliver(app, click('kproxy_deny'))).toEqual({ acked: false });
    expect(await deliver(app, modal('view_submission', 'kproxy_red_confirm'))).toEqual({ acked: false });
    // app.view(id) takes submissions only (Bolt's default constraint `type: view_submission`).
    expect(await deliver(app, modal('view_closed', 'other'))).toEqual({ acked: false });
    expect(called).toEqual([]);
  });

  it('a handler that throws reaches the app error handler, as a listener that throws did', async () => {
    const i = new Interactions();
    i.action('kproxy_approve', async () => {
      throw new Error('boom');
    });
    const app = appWith(i);
    const errors: string[] = [];
    app.error(async (error) => {
      errors.push(error.message);
    });
    await deliver(app, click('kproxy_approve'));
    expect(errors).toEqual(['boom']);
  });
});

describe("the bot's Bolt app", () => {
  it('has no conversation store: a request carries no conversation context', async () => {
    const redisUrl = inject('redisUrl');
    const redis = new Redis(redisUrl, { lazyConnect: true });
    const queue = new Queue('bot-options-test', { connection: new Redis(redisUrl, { lazyConnect: true }) });
    const env = parseEnv(
      { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'secret', REDIS_URL: redisUrl, PORT: '0' },
      'bot',
    );
    const config = parseConfig(
      'clusters:\n  - name: prod-east\n    inCluster: true\n    channels: [C0X]\n',
      't.yaml',
    );
    const app = createBot({
      config,
      env,
      redis,
      queue,
      poster: new SlackPoster(redis, { token: env.SLACK_BOT_TOKEN }),
      logger: createLogger('test', () => undefined),
      metrics: new Metrics(metricHelp, { runtime: false }),
    });
    const seen: Record<string, unknown>[] = [];
    // After Bolt's built-in middleware and the gate; stops before the listeners.
    app.use(async ({ context }) => {
      seen.push({ ...context });
    });
    // Authorized by the workspace the configuration serves (unconfigured: the token's own).
    (app as unknown as { authorize: () => Promise<object> }).authorize = async () => ({
      botToken: 'xoxb-test',
      teamId: 'T0TEST',
    });
    await app.processEvent({
      body: {
        command: '/kproxy',
        text: 'help',
        team_id: 'T0TEST',
        channel_id: 'C0X',
        user_id: 'U0X',
        trigger_id: '1.2',
        response_url: 'http://127.0.0.1:9/r',
      },
      ack: async () => undefined,
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toHaveProperty('updateConversation');
    expect(seen[0]).not.toHaveProperty('conversation');
    await queue.close();
    redis.disconnect();
  });
});
