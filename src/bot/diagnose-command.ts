/**
 * `/kproxy diagnose`: decided, queued and acknowledged after one Redis round trip
 * (admission.ts: the delivery dedupe, both rate limits and, when admitted, the start
 * appended to the start list, in one script call). The bot has nothing left to do after
 * the ack: the worker side's mover hands the start to the start queue (start-mover.ts) and
 * the start worker posts the thread's parent and queues the diagnosis (start-worker.ts).
 * The command is durably queued before it is acknowledged, so a bot that stops right after
 * its ack loses nothing.
 *
 * That is the split deployment (`startList` set: a bot process beside worker processes).
 * In `npm start` (one process, `startList` unset) the bot starts the command itself after
 * the ack, off the request path (ack-first.ts), and shutdown waits for those starts
 * (PendingStarts): the start queue's hop would cost its one event loop more than it saves.
 */
import { randomUUID } from 'node:crypto';
import type { RespondFn } from '@slack/bolt';
import { errorMessage } from '../errors.js';
import type { DiagnoseJob, StartJob } from '../queue/jobs.js';
import { keys } from '../queue/jobs.js';
import { escapeMrkdwn } from '../report/blocks.js';
import type { AckFirst } from './ack-first.js';
import { admit } from './admission.js';
import type { BotDeps } from './app.js';
import { authorize } from './authorize.js';
import type { Command } from './command.js';
import { StartFailed, startOrJoin } from './start-diagnosis.js';

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
  'config' | 'redis' | 'queue' | 'startList' | 'poster' | 'logger' | 'metrics' | 'pending'
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
  const start = deps.startList
    ? { key: deps.startList, payload: JSON.stringify(startOf(cmd, command)) }
    : undefined;
  try {
    admission = await admit(
      deps.redis,
      deps.config,
      command.user_id,
      command.channel_id,
      { key: keys.delivery(command.trigger_id), ttlSeconds: deliveryTtlSeconds },
      start,
    );
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
  if (!start) startAfterAck(deps, cmd, command, respond);
}

/** The start the admission script queues (the start worker's job). */
function startOf(cmd: Extract<Command, { kind: 'diagnose' }>, command: SlashCommand): StartJob {
  return {
    requestId: randomUUID(),
    cluster: cmd.cluster,
    target: targetOf(cmd),
    channel: command.channel_id,
    user: command.user_id,
    // Only a URL the start's schema takes: a start the mover cannot read would be dropped.
    ...(command.response_url && URL.canParse(command.response_url)
      ? { responseUrl: command.response_url }
      : {}),
    queuedAt: Date.now(),
  };
}

function targetOf(cmd: Extract<Command, { kind: 'diagnose' }>): DiagnoseJob['target'] {
  return {
    ...(cmd.namespace ? { namespace: cmd.namespace } : {}),
    ...(cmd.service ? { service: cmd.service } : {}),
    ...(cmd.node ? { node: cmd.node } : {}),
    ...(cmd.from ? { from: cmd.from } : {}),
    ...(cmd.route ? { route: `${cmd.route.kind}/${cmd.route.namespace}/${cmd.route.name}` } : {}),
  };
}

/**
 * `npm start`, acknowledged: from here the diagnosis is queued, or the thread (or the user)
 * hears why not.
 */
function startAfterAck(
  deps: Deps,
  cmd: Extract<Command, { kind: 'diagnose' }>,
  command: SlashCommand,
  respond: RespondFn,
): void {
  const target = targetOf(cmd);
  const tell = (text: string) =>
    respond({ response_type: 'ephemeral', text }).catch((error) =>
      deps.logger.warn('could not tell the user', { error: errorMessage(error) }),
    );
  const request = { cluster: cmd.cluster, target, channel: command.channel_id, user: command.user_id };
  const started = deps.ackFirst
    .turn()
    .then(() => startOrJoin(deps, request))
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
