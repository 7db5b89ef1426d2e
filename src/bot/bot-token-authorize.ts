/**
 * Authorization of incoming Slack requests for a single-workspace bot token.
 *
 * Bolt's built-in single-token authorization (`token:` in the App options) calls
 * `auth.test` once, in the App constructor, and caches that promise for the life of the
 * process (`singleAuthorization` in @slack/bolt's App.js). If Slack cannot be reached at
 * that moment, the rejection is unhandled and every later request fails on the cached
 * rejection until the process restarts. This one caches only a successful answer and asks
 * again on the next request after a failure.
 */
import type { Authorize, AuthorizeResult } from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';

export function botTokenAuthorize(token: string, clientOptions: WebClientOptions): Authorize<boolean> {
  const client = new WebClient(token, clientOptions);
  let cached: Promise<AuthorizeResult> | undefined;
  const ask = async (): Promise<AuthorizeResult> => {
    const result = await client.auth.test();
    return {
      botToken: token,
      ...(result.bot_id ? { botId: result.bot_id } : {}),
      ...(result.user_id ? { botUserId: result.user_id } : {}),
      ...(result.team_id ? { teamId: result.team_id } : {}),
      ...(result.enterprise_id ? { enterpriseId: result.enterprise_id } : {}),
    };
  };
  return () => {
    if (!cached) {
      cached = ask();
      cached.catch(() => {
        cached = undefined;
      });
    }
    return cached;
  };
}
