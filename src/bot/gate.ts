/**
 * Checks every Slack request passes before any listener runs: the workspace it comes from,
 * and, for buttons and modals, that this exact interaction was not handled already. Slack
 * redelivers an interaction it thinks failed, and a captured signed one can be replayed for
 * five minutes: each is handled once (by user, trigger id and action time).
 */
import type { AnyMiddlewareArgs, App, Context } from '@slack/bolt';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Logger } from '../log.js';

/** Longer than Slack's five-minute signature window: a replay is always recognised. */
const interactionTtlSeconds = 10 * 60;

interface Identified {
  type?: string;
  team_id?: string;
  team?: { id?: string } | null;
  enterprise_id?: string;
  enterprise?: { id?: string } | null;
  is_enterprise_install?: boolean | string;
  user?: { id?: string; team_id?: string } | string;
  user_id?: string;
  trigger_id?: string;
  actions?: { action_ts?: string }[];
  view?: { id?: string; hash?: string };
}

export function registerGate(
  app: App,
  deps: { readonly config: Config; readonly redis: Redis; readonly logger: Logger },
): void {
  app.use(async (args) => {
    const { body, context, next } = args as AnyMiddlewareArgs & {
      context: Context;
      next: () => Promise<void>;
    };
    const b = body as Identified;
    const ack = (args as { ack?: () => Promise<void> }).ack;
    const configured = deps.config.slack;
    // Unconfigured: the bot token's own workspace, as auth.test named it (botTokenAuthorize).
    const served =
      configured && (configured.teams.length > 0 || configured.enterprises.length > 0)
        ? configured
        : {
            teams: context.teamId ? [context.teamId] : [],
            enterprises: context.enterpriseId ? [context.enterpriseId] : [],
          };
    const foreign = foreignWorkspace(served, b);
    if (foreign) {
      deps.logger.warn('request from another workspace refused', { team: foreign });
      await ack?.();
      return;
    }
    const key = interactionKey(b);
    if (key && (await deps.redis.set(key, '1', 'EX', interactionTtlSeconds, 'NX')) !== 'OK') {
      deps.logger.warn('repeated interaction ignored', { type: b.type });
      await ack?.();
      return;
    }
    await next();
  });
}

/** The team or org of a request when kproxy does not serve it, else undefined. */
function foreignWorkspace(
  served: { readonly teams: readonly string[]; readonly enterprises: readonly string[] },
  b: Identified,
): string | undefined {
  const team = b.team_id ?? b.team?.id ?? (typeof b.user === 'object' ? b.user.team_id : undefined);
  const enterprise = b.enterprise_id ?? b.enterprise?.id;
  if (team && served.teams.includes(team)) return undefined;
  if (enterprise && served.enterprises.includes(enterprise)) return undefined;
  return team ?? enterprise ?? 'unknown';
}

/** A key naming this exact interaction (buttons and modal submissions), if it is one. */
function interactionKey(b: Identified): string | undefined {
  if (b.type !== 'block_actions' && b.type !== 'view_submission') return undefined;
  const user = typeof b.user === 'object' ? b.user.id : b.user_id;
  const at = b.actions?.[0]?.action_ts ?? b.view?.hash ?? '';
  if (!user || !b.trigger_id) return undefined;
  return `kproxy:interaction:${user}:${b.trigger_id}:${at}`;
}
