/**
 * The bot's readiness: Redis answers, and Slack answered `api.test` recently. Probes are
 * frequent and unauthenticated, so the Slack answer is cached: probes never amplify into
 * Slack calls (one call per TTL at most, shared by concurrent probes), the last answer
 * stands while a refresh is in flight (a rate-limited or slow api.test cannot fail
 * readiness by itself), and a rate limit counts as an answer (Slack is reachable).
 */
import type { Redis } from 'ioredis';
import { describeError } from '../errors.js';
import type { SlackPoster } from '../slack/poster.js';
import { redisProblem } from '../workers/health-server.js';

/** How long one Slack answer stands for readiness. */
export const slackCheckTtlMs = 30_000;
/** The first probe waits at most this long for Slack's first answer. */
const firstAnswerMs = 2_500;

export function botReadiness(
  redis: Redis,
  poster: Pick<SlackPoster, 'client'>,
  ttlMs = slackCheckTtlMs,
): () => Promise<string | undefined> {
  let last: { at: number; problem: string | undefined } | undefined;
  let inFlight: Promise<string | undefined> | undefined;
  const refresh = (): Promise<string | undefined> => {
    inFlight ??= poster.client.api
      .test()
      .then(
        () => undefined,
        (error: unknown) => {
          const why = describeError(error);
          return /rate.?limit/i.test(why) ? undefined : `slack: ${why}`;
        },
      )
      .then((problem) => {
        last = { at: Date.now(), problem };
        inFlight = undefined;
        return problem;
      });
    return inFlight;
  };
  const slackProblem = async (): Promise<string | undefined> => {
    const stale = !last || Date.now() - last.at > ttlMs;
    const answer = stale ? refresh() : undefined;
    if (last) return last.problem;
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      answer,
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('slack: no answer to api.test yet'), firstAnswerMs);
      }),
    ]);
    clearTimeout(timer);
    return waited;
  };
  return async () => (await redisProblem(redis)) ?? (await slackProblem());
}
