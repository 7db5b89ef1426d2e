/**
 * The Slack side: `/kproxy` commands through Bolt (HTTP receiver with the signing secret
 * checked by Bolt, or Socket Mode), acknowledged within Slack's 3 seconds. Work happens
 * after the ack: the thread's parent message is posted and a `diagnose` job enqueued,
 * or, when the same cluster and target is already being diagnosed, the request joins
 * that thread.
 */
import type { AddressInfo } from 'node:net';
import { App, type CustomRoute, HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config, Env } from '../config/config.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { SlackPoster } from '../slack/poster.js';
import { acksFirst } from './ack-first.js';
import { registerApprovals } from './approvals.js';
import { auditText } from './approver-groups.js';
import { clustersForChannel } from './authorize.js';
import { boltLogger } from './bolt-logger.js';
import { botTokenAuthorize } from './bot-token-authorize.js';
import { commandUsage, parseCommand } from './command.js';
import { handleDiagnose } from './diagnose-command.js';
import { registerGate } from './gate.js';
import { Interactions } from './interactions.js';
import type { PendingStarts } from './start-diagnosis.js';

export interface BotDeps {
  readonly config: Config;
  readonly env: Env;
  readonly redis: Redis;
  readonly queue: Queue;
  readonly poster: SlackPoster;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Extra HTTP routes on the Slack listener (the PagerDuty webhook); never probes or metrics. */
  readonly routes?: CustomRoute[];
  /**
   * The start list (jobs.ts `startListKeys.queued`): the admission script queues each
   * admitted diagnose command's start there before the ack, for the worker side's mover
   * (start-mover.ts): the split deployment. Without it (`npm start`) the bot starts them
   * itself after the acks.
   */
  readonly startList?: string;
  /** Where approved actions are queued; without it, report buttons are not handled. */
  readonly executeQueue?: Queue;
  /** Acknowledged commands still being started (shutdown waits for them). */
  readonly pending?: PendingStarts;
}

/**
 * What the Slack listener accepts before anyone is authenticated: Slack's payloads are a
 * few KB (a modal submission with its state well under 100 KB), so a body above this is
 * refused (413) before it is buffered, and a client that stalls is cut off in seconds
 * (Bolt's defaults: 4 MB, and Node's: minutes).
 */
export const slackBodyLimitBytes = 256 * 1024;
export const slackServerOptions = {
  headersTimeout: 5_000,
  requestTimeout: 10_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 1_000,
} as const;

/** Starts the Slack listener on `host:port` (HTTP mode) and resolves with the port. */
export async function listenBot(app: App, env: Env): Promise<number> {
  const server = (await (env.SLACK_SIGNING_SECRET
    ? app.start({ port: env.PORT, host: env.BIND_ADDRESS }, slackServerOptions)
    : app.start(env.PORT))) as { address?: () => AddressInfo | string | null } | undefined;
  const address = server?.address?.();
  return typeof address === 'object' && address ? address.port : env.PORT;
}

export function createBot(deps: BotDeps): App {
  const { env } = deps;
  const clientOptions = {
    ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
    retryConfig: { retries: 2 },
  };
  const routes = deps.routes ?? [];
  const logger = boltLogger(deps.logger);
  // convoStore: false: no Bolt conversation store. kproxy never reads `context.conversation`,
  // and Bolt's default in-memory one runs on every request a middleware that builds a
  // rejected promise with a new Error ("Conversation not found", a stack captured) and two
  // debug strings: ~10% of the bot's CPU per slash command in profiles (issue 16).
  const app = env.SLACK_SIGNING_SECRET
    ? new App({
        authorize: botTokenAuthorize(env.SLACK_BOT_TOKEN, clientOptions),
        receiver: new HTTPReceiver({
          signingSecret: env.SLACK_SIGNING_SECRET,
          endpoints: '/slack/events',
          bodyLimit: slackBodyLimitBytes,
          logger,
          customRoutes: routes,
          processEventErrorHandler: async ({ error, response }) => {
            deps.logger.error('slack request failed', { error: errorMessage(error) });
            if (!response.headersSent) {
              response.writeHead(500);
              response.end();
            }
            return false;
          },
        }),
        clientOptions,
        logger,
        convoStore: false,
      })
    : new App({
        authorize: botTokenAuthorize(env.SLACK_BOT_TOKEN, clientOptions),
        receiver: new SocketModeReceiver({
          appToken: env.SLACK_APP_TOKEN as string,
          customRoutes: routes,
          logger,
          // The Socket Mode client opens its connection through the same Web API URL.
          installerOptions: { port: env.PORT, clientOptions },
        }),
        clientOptions,
        logger,
        convoStore: false,
      });

  registerGate(app, deps);

  app.command('/kproxy', async ({ command, ack, respond }) => {
    const parsed = parseCommand(command.text ?? '');
    deps.metrics.inc('kproxy_commands_total', { outcome: parsed.ok ? parsed.command.kind : 'invalid' });
    if (!parsed.ok) {
      await ack({ response_type: 'ephemeral', text: `:warning: ${parsed.problem}\n${commandUsage}` });
      return;
    }
    const cmd = parsed.command;
    if (cmd.kind === 'help') {
      await ack({ response_type: 'ephemeral', text: commandUsage });
      return;
    }
    if (cmd.kind === 'audit') {
      await ack({
        response_type: 'ephemeral',
        text: await auditText(deps.config, deps.redis, command.user_id, cmd.count, command.channel_id),
      });
      return;
    }
    if (cmd.kind === 'clusters') {
      const names = clustersForChannel(deps.config, command.channel_id);
      await ack({
        response_type: 'ephemeral',
        text: names.length
          ? `Clusters this channel may diagnose: ${names.map((n) => `\`${n}\``).join(', ')}`
          : 'This channel may not diagnose any cluster.',
      });
      return;
    }
    await acksFirst.acking(() =>
      handleDiagnose({ ...deps, ackFirst: acksFirst }, cmd, command, ack, respond),
    );
  });

  // One action and one view listener for every button and modal (interactions.ts).
  const interactions = new Interactions();
  if (deps.executeQueue) {
    registerApprovals(interactions, {
      config: deps.config,
      redis: deps.redis,
      poster: deps.poster,
      executeQueue: deps.executeQueue,
      logger: deps.logger,
    });
  }

  // Buttons and modals kproxy does not know (old messages, forged payloads) are
  // acknowledged and ignored, rather than left for Slack to show as failures.
  interactions.action(/^(?!kproxy_(approve|deny|request_action_\d+)$)/, async ({ ack, body }) => {
    await ack();
    deps.logger.warn('unknown interaction ignored', { user: body.user?.id });
  });
  interactions.view(/^(?!kproxy_red_(reason|confirm)$)/, async ({ ack, body }) => {
    await ack();
    deps.logger.warn('unknown modal ignored', { user: body.user?.id });
  });

  interactions.install(app);

  app.error(async (error) => {
    deps.logger.error('slack handler error', { error: errorMessage(error) });
  });
  return app;
}
