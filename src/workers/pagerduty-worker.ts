/**
 * PagerDuty triage: `incident.triggered` opens a thread in the mapped channel and starts
 * a diagnosis of the target named by the incident (alert custom_details or the title),
 * or a cluster-wide kube-proxy health diagnosis when it names none. Incidents for the same
 * cluster and target within a window share one diagnosis. Acknowledged, resolved and
 * reassigned events are told in the thread and on its parent.
 */
import { randomUUID } from 'node:crypto';
import { type ConnectionOptions, type Job, type Queue, Worker, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { nodeNameSchema } from '../cli/target.js';
import type { Config, PagerDutyServiceConfig } from '../config/config.js';
import type { Diagnosis } from '../engine/diagnosis.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import {
  type Incident,
  type PagerDutyJob,
  pagerDutyJobSchema,
  pagerDutyQueueName,
  pagerDutyStatusQueueName,
} from '../pagerduty/payload.js';
import type { PagerDutyRest } from '../pagerduty/rest.js';
import { type DiagnoseJob, enqueueDiagnosis, targetLabel } from '../queue/jobs.js';
import { escapeMrkdwn } from '../report/blocks.js';
import { rememberParent, updateParent } from '../slack/messages.js';
import type { SlackPoster } from '../slack/poster.js';

export interface PagerDutyWorkerDeps {
  readonly config: Config;
  readonly redis: Redis;
  readonly connection: ConnectionOptions;
  readonly poster: SlackPoster;
  readonly logger: Logger;
  readonly diagnoseQueue: Queue;
  /** With an API token: alert custom_details and notes. */
  readonly rest?: PagerDutyRest | undefined;
  readonly workerOptions?: Partial<WorkerOptions>;
}

const pdKeys = {
  incident: (id: string) => `kproxy:pd:incident:${id}`,
  shared: (cluster: string, t: DiagnoseJob['target']) =>
    `kproxy:pd:shared:${cluster}:${t.namespace ?? '-'}/${t.service ?? '-'}:${t.node ?? '-'}`,
  note: (id: string) => `kproxy:pd:note:${id}`,
  /** When the last status event applied to the incident happened (epoch ms). */
  statusAt: (id: string) => `kproxy:pd:status-at:${id}`,
};

/** Applies `at` as the incident's latest status time unless a later one was applied (0: stale). */
const newerStatusScript = `
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) < last then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`;

const threadTtlSeconds = 7 * 24 * 3600;
const label = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);

/** Triage runs concurrently; status events run one at a time, in arrival order. */
export function startPagerDutyWorkers(deps: PagerDutyWorkerDeps): Worker[] {
  const triage = new Worker(pagerDutyQueueName, (job) => processEvent(deps, job), {
    connection: deps.connection,
    concurrency: 4,
    ...deps.workerOptions,
  });
  const status = new Worker(pagerDutyStatusQueueName, (job) => processEvent(deps, job), {
    connection: deps.connection,
    concurrency: 1,
    ...deps.workerOptions,
  });
  for (const worker of [triage, status]) {
    worker.on('failed', (job, error) =>
      deps.logger.warn('pagerduty event failed', {
        jobId: job?.id,
        attempt: job?.attemptsMade,
        error: errorMessage(error),
      }),
    );
    worker.on('error', (error) =>
      deps.logger.error('pagerduty worker error', { error: errorMessage(error) }),
    );
  }
  return [triage, status];
}

async function processEvent(deps: PagerDutyWorkerDeps, job: Job): Promise<string> {
  const event = pagerDutyJobSchema.parse(job.data);
  if (event.eventType === 'incident.triggered') return triage(deps, event);
  return tellStatus(deps, event, job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
}

async function triage(deps: PagerDutyWorkerDeps, event: PagerDutyJob): Promise<string> {
  const { incident } = event;
  const mapping = deps.config.pagerduty?.services.find((s) => s.id === incident.service.id);
  if (!mapping) {
    deps.logger.info('pagerduty incident for an unmapped service, skipped', {
      incident: incident.id,
      service: incident.service.id,
    });
    return 'unmapped';
  }
  // Defence in depth (config check refuses it too): a mapping may only post where its
  // cluster may be diagnosed, or its report and action buttons would land elsewhere.
  if (!deps.config.clusters.find((c) => c.name === mapping.cluster)?.channels.includes(mapping.channel)) {
    deps.logger.warn('pagerduty mapping posts to a channel not allowed for its cluster; refused', {
      incident: incident.id,
      cluster: mapping.cluster,
      channel: mapping.channel,
    });
    return 'channel not allowed';
  }
  const claim = await deps.redis.set(
    pdKeys.incident(incident.id),
    JSON.stringify({ channel: mapping.channel, ts: '' }),
    'EX',
    threadTtlSeconds,
    'NX',
  );
  if (claim !== 'OK') return 'already triaged';

  const { cluster, target } = await findTarget(deps, mapping, incident);
  const headline = headlineOf(incident);
  const parent = await deps.poster.post(mapping.channel, { text: headline });
  await rememberParent(deps.redis, parent.channel, parent.ts, { head: headline });
  await deps.redis.set(
    pdKeys.incident(incident.id),
    JSON.stringify({ channel: parent.channel, ts: parent.ts }),
    'EX',
    threadTtlSeconds,
  );

  const window = deps.config.pagerduty?.shareWindowSeconds ?? 900;
  const sharedKey = pdKeys.shared(cluster, target);
  const mine = JSON.stringify({ channel: parent.channel, ts: parent.ts, number: incident.number ?? null });
  const first = window > 0 ? await deps.redis.set(sharedKey, mine, 'EX', window, 'NX') : 'OK';
  if (first !== 'OK') {
    const shared = JSON.parse((await deps.redis.get(sharedKey)) ?? '{}') as {
      channel?: string;
      ts?: string;
      number?: number;
    };
    const link =
      shared.channel && shared.ts ? await deps.poster.permalink(shared.channel, shared.ts) : undefined;
    const text = `Same cluster and target as PagerDuty #${shared.number ?? '?'}: one diagnosis serves both${link ? ` — <${link}|see that thread>` : ''}.`;
    await deps.poster.post(parent.channel, { text, threadTs: parent.ts });
    await updateParent(
      deps.redis,
      deps.poster,
      parent.channel,
      parent.ts,
      'diag',
      `:link: diagnosis shared with PagerDuty #${shared.number ?? '?'}`,
    );
    return 'shared';
  }
  const requestId = randomUUID();
  const job: DiagnoseJob = {
    requestId,
    cluster,
    target,
    channel: parent.channel,
    threadTs: parent.ts,
    requestedBy: 'pagerduty',
    runningKey: `kproxy:pd:running:${requestId}`,
    pagerDutyIncidentId: incident.id,
  };
  await enqueueDiagnosis(deps.diagnoseQueue, job);
  await updateParent(
    deps.redis,
    deps.poster,
    parent.channel,
    parent.ts,
    'diag',
    `:mag: diagnosing ${escapeMrkdwn(targetLabel(cluster, target))}`,
  );
  return 'diagnosing';
}

/** The incident's target: alert custom_details (with an API token) over the title pattern; invalid values are dropped, never guessed. */
async function findTarget(
  deps: PagerDutyWorkerDeps,
  mapping: PagerDutyServiceConfig,
  incident: Incident,
): Promise<{ cluster: string; target: DiagnoseJob['target'] }> {
  const found: Partial<Record<'cluster' | 'namespace' | 'service' | 'node', string>> = {};
  const pattern = mapping.target.titlePattern;
  if (pattern && incident.title) Object.assign(found, new RegExp(pattern).exec(incident.title)?.groups ?? {});
  const fields = mapping.target.customDetails;
  if (fields && deps.rest) {
    try {
      const [details] = await deps.rest.alertDetails(incident.id);
      for (const [field, key] of Object.entries(fields)) {
        const value = details?.[key];
        if (typeof value === 'string' && value) found[field as keyof typeof found] = value;
      }
    } catch (error) {
      deps.logger.warn('pagerduty alerts not readable; using the title', {
        incident: incident.id,
        error: errorMessage(error),
      });
    }
  }
  // The incident may name a cluster, but only one this channel may diagnose.
  const named =
    found.cluster && label.safeParse(found.cluster).success
      ? deps.config.clusters.find((c) => c.name === found.cluster && c.channels.includes(mapping.channel))
      : undefined;
  const cluster = named?.name ?? mapping.cluster;
  const ok = (v: string | undefined) => v !== undefined && label.safeParse(v).success;
  const target: DiagnoseJob['target'] = {};
  if (ok(found.namespace) && ok(found.service))
    Object.assign(target, { namespace: found.namespace, service: found.service });
  if (found.node && nodeNameSchema.safeParse(found.node).success) target.node = found.node;
  return { cluster, target };
}

function headlineOf(incident: Incident): string {
  const link = incident.html_url
    ? `<${incident.html_url}|PagerDuty #${incident.number ?? incident.id}>`
    : `PagerDuty #${incident.number ?? incident.id}`;
  const details = [
    incident.urgency ? `${incident.urgency} urgency` : undefined,
    incident.service.summary ? `service ${escapeMrkdwn(incident.service.summary)}` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  return `:rotating_light: ${link} — ${escapeMrkdwn(incident.title ?? 'untitled incident')}${details ? `\n${details}` : ''}`;
}

async function tellStatus(
  deps: PagerDutyWorkerDeps,
  event: PagerDutyJob,
  lastAttempt: boolean,
): Promise<string> {
  const thread = JSON.parse((await deps.redis.get(pdKeys.incident(event.incident.id))) ?? '{}') as {
    channel?: string;
    ts?: string;
  };
  if (!thread.channel || !thread.ts) {
    // PagerDuty orders events per incident, but a triggered event may still be in flight here.
    if (!lastAttempt) throw new Error(`no thread yet for incident ${event.incident.id}`);
    return 'no thread';
  }
  // Redeliveries and replays of an older status event must not overwrite a newer one.
  const at = event.occurredAt ? Date.parse(event.occurredAt) : Number.NaN;
  if (Number.isFinite(at)) {
    const key = pdKeys.statusAt(event.incident.id);
    if ((await deps.redis.eval(newerStatusScript, 1, key, String(at), String(threadTtlSeconds))) === 0)
      return 'stale';
  }
  const who = event.agent ? ` by ${escapeMrkdwn(event.agent)}` : '';
  const text =
    event.eventType === 'incident.acknowledged'
      ? `:eyes: Acknowledged${who}`
      : event.eventType === 'incident.resolved'
        ? `:white_check_mark: Resolved${who}`
        : `:arrows_counterclockwise: Reassigned to ${escapeMrkdwn((event.incident.assignees ?? []).map((a) => a.summary ?? a.id).join(', ') || 'someone else')}`;
  await deps.poster.post(thread.channel, { text, threadTs: thread.ts });
  await updateParent(deps.redis, deps.poster, thread.channel, thread.ts, 'status', text);
  return event.eventType;
}

/** The diagnosis summary as a note on the incident, at most once per incident. */
export async function notePagerDuty(
  deps: Pick<PagerDutyWorkerDeps, 'config' | 'redis' | 'rest' | 'poster' | 'logger'>,
  job: DiagnoseJob,
  d: Diagnosis,
): Promise<void> {
  if (!job.pagerDutyIncidentId || !deps.rest || !deps.config.pagerduty?.note.enabled) return;
  const first = await deps.redis.set(pdKeys.note(job.pagerDutyIncidentId), '1', 'EX', threadTtlSeconds, 'NX');
  if (first !== 'OK') return;
  const link = await deps.poster.permalink(job.channel, job.threadTs);
  const content = [
    `kproxy: ${d.rootCause.category} (${d.severity}) — ${d.rootCause.detail}`,
    `kube-proxy ${d.kubeProxy.mode} ${d.kubeProxy.version ?? ''}`.trim(),
    `What to do: ${d.mitigation.immediate}`,
    link ? `Slack thread: ${link}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  try {
    await deps.rest.addNote(job.pagerDutyIncidentId, content);
  } catch (error) {
    await deps.redis.del(pdKeys.note(job.pagerDutyIncidentId));
    deps.logger.warn('pagerduty note not posted', {
      incident: job.pagerDutyIncidentId,
      error: errorMessage(error),
    });
  }
}
