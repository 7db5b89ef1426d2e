/**
 * `/kproxy diagnose`: decided and acknowledged after one Redis round trip (admission.ts:
 * the delivery dedupe and both rate limits in one script call), then started off the
 * request path. The handler returns right after the ack; the start (the thread's parent
 * post, the Redis keys, `queue.add`) waits its turn (ack-first.ts): a burst of commands is
 * acked first and started afterwards. Every acknowledged command still ends in a report
 * or a stated failure: the thread (or, without a thread, the user) is told when the start
 * fails, and shutdown waits for the starts in flight (PendingStarts).
 */
import { randomUUID } from 'node:crypto';
import type { RespondFn } from '@slack/bolt';
import type { Queue } from 'bullmq';
import { errorMessage } from '../errors.js';
import { enqueueStart, keys } from '../queue/jobs.js';
import { escapeMrkdwn } from '../report/blocks.js';
import type { AckFirst } from './ack-first.js';
import { admit } from './admission.js';
import type { BotDeps } from './app.js';
import { authorize } from './authorize.js';
import type { Command } from './command.js';
import { retried, StartFailed, type StartRequest, startOrJoin } from './start-diagnosis.js';

const deliveryTtlSeconds = 10 * 60;

type AckFn = (response?: { response_type: 'ephemeral'; text: string }) => Promise<void>;

export interface SlashCommand {
  readonly user_id: string;
  readonly channel_id: string;
  readonly trigger_id: string;
  readonly response_url?: string;
}

type Deps = Pick<
  BotDeps,
  'config' | 'redis' | 'queue' | 'startQueue' | 'poster' | 'logger' | 'metrics' | 'pending'
> & {
  readonly ackFirst: AckFirst;
};

export async function handleDiagnose(
  deps: Deps,
  cmd: Extract<Command, { kind: 'diagnose' }>,
  command: SlashCommand,
  ack: AckFn,
  respond: RespondFn,
): Promise<void> {
  const decision = authorize(deps.config, cmd.cluster, command.channel_id, command.user_id);
  if (!decision.ok) {
    deps.metrics.inc('kproxy_commands_refused_total', { reason: 'unauthorized' });
    await ack({ response_type: 'ephemeral', text: `:no_entry: ${decision.reason}` });
    return;
  }
  // Redis answers within a second or the user hears so now: the ack must beat Slack's 3 s.
  let admission: Awaited<ReturnType<typeof admit>>;
  try {
    admission = await admit(deps.redis, deps.config, command.user_id, command.channel_id, {
      key: keys.delivery(command.trigger_id),
      ttlSeconds: deliveryTtlSeconds,
    });
  } catch (error) {
    deps.logger.error('queue unavailable', { error: errorMessage(error) });
    await ack({
      response_type: 'ephemeral',
      text: ':warning: kproxy cannot reach its queue (Redis) right now; nothing was started. Try again in a minute.',
    });
    return;
  }
  // Slack re-sent a request it thinks failed (same trigger id): it runs once.
  if (admission.kind === 'duplicate') return ack();
  if (admission.kind === 'limited') {
    deps.metrics.inc('kproxy_commands_refused_total', { reason: 'rate_limited' });
    return ack({
      response_type: 'ephemeral',
      text: `:turtle: Too many diagnoses requested here; try again in ${admission.waitSeconds}s.`,
    });
  }
  await ack();
  startAfterAck(deps, cmd, command, respond);
}

/** Acknowledged: from here the diagnosis is queued, or the thread (or the user) hears why not. */
function startAfterAck(
  deps: Deps,
  cmd: Extract<Command, { kind: 'diagnose' }>,
  command: SlashCommand,
  respond: RespondFn,
): void {
  const target = {
    ...(cmd.namespace ? { namespace: cmd.namespace } : {}),
    ...(cmd.service ? { service: cmd.service } : {}),
    ...(cmd.node ? { node: cmd.node } : {}),
    ...(cmd.from ? { from: cmd.from } : {}),
    ...(cmd.route ? { route: `${cmd.route.kind}/${cmd.route.namespace}/${cmd.route.name}` } : {}),
  };
  const tell = (text: string) =>
    respond({ response_type: 'ephemeral', text }).catch((error) =>
      deps.logger.warn('could not tell the user', { error: errorMessage(error) }),
    );
  const request = { cluster: cmd.cluster, target, channel: command.channel_id, user: command.user_id };
  const handOff = deps.startQueue;
  const started = deps.ackFirst
    .turn()
    .then(async () => {
      if (handOff) await handOver(handOff, request, command.response_url);
      else await startOrJoin(deps, request);
    })
    .then(
      () => undefined,
      async (error: unknown) => {
        deps.logger.error('could not start a diagnosis', { error: errorMessage(error) });
        if (!(error instanceof StartFailed && error.told))
          await tell(
            `:x: kproxy could not start the diagnosis: ${escapeMrkdwn(errorMessage(error))}. Nothing is running; run the command again.`,
          );
      },
    );
  deps.pending?.track(started, tell);
}

/**
 * The split deployment: the start (the parent, the keys, the diagnosis job) is the worker
 * process' (start-worker.ts); the bot only queues it, retried like the start's own steps.
 */
function handOver(queue: Queue, request: StartRequest, responseUrl: string | undefined): Promise<void> {
  const job = { requestId: randomUUID(), ...request, ...(responseUrl ? { responseUrl } : {}) };
  return retried(() => enqueueStart(queue, job));
}
