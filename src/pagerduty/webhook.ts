/**
 * `POST /pagerduty/webhook` (PagerDuty v3 webhook subscriptions), a custom route of the
 * bot's HTTP server. Missing or bad signature → 401 and nothing else happens; malformed
 * body → 400; event types kproxy does not handle → 202, ignored. Handled events are
 * queued under the signed event's id, so redeliveries and replays create nothing new. Only
 * the fields kproxy uses are kept (nothing else reaches the queue).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { Queue } from 'bullmq';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import {
  type HandledEventType,
  handledEventTypes,
  incidentSchema,
  type PagerDutyJob,
  webhookSchema,
} from './payload.js';
import { verifyPagerDutySignature } from './signature.js';

/** PagerDuty drops payloads above 256 KiB; so does kproxy. */
const maxBodyBytes = 256 * 1024;

export interface WebhookDeps {
  readonly secrets: readonly string[];
  readonly queue: Queue;
  /** Status events (acknowledged, resolved, reassigned), processed in order. */
  readonly statusQueue: Queue;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export function pagerDutyWebhookRoute(deps: WebhookDeps): CustomRoute {
  return {
    path: '/pagerduty/webhook',
    method: 'POST',
    handler: (req, res) => void handle(deps, req, res),
  };
}

async function handle(deps: WebhookDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const reply = (status: number, body: Record<string, unknown>) => {
    deps.metrics.inc('kproxy_pagerduty_webhooks_total', { status: String(status) });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  let raw: Buffer;
  try {
    raw = await readRaw(req);
  } catch {
    reply(413, { error: 'payload too large' });
    return;
  }
  const signature = req.headers['x-pagerduty-signature'];
  if (
    !verifyPagerDutySignature(raw, Array.isArray(signature) ? signature.join(',') : signature, deps.secrets)
  ) {
    reply(401, { error: 'invalid signature' });
    return;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    reply(400, { error: 'body is not JSON' });
    return;
  }
  const parsed = webhookSchema.safeParse(doc);
  if (!parsed.success) {
    reply(400, {
      error: `not a v3 webhook: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
    });
    return;
  }
  const event = parsed.data.event;
  if (!(handledEventTypes as readonly string[]).includes(event.event_type)) {
    reply(202, { status: 'ignored', event_type: event.event_type });
    return;
  }
  const incident = incidentSchema.safeParse(event.data);
  if (!incident.success) {
    reply(400, { error: `event.data is not an incident: ${incident.error.issues[0]?.path.join('.')}` });
    return;
  }
  const job: PagerDutyJob = {
    eventId: event.id,
    eventType: event.event_type as HandledEventType,
    occurredAt: event.occurred_at ?? null,
    agent: event.agent?.summary ?? null,
    incident: incident.data,
  };
  try {
    // Keyed on the signed event id (X-Webhook-Id is not signed): a redelivery or a replay of
    // the same event is the same job id, a no-op add.
    const queue = event.event_type === 'incident.triggered' ? deps.queue : deps.statusQueue;
    await queue.add(event.event_type, job, {
      jobId: `pd__${event.id.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  } catch (error) {
    deps.logger.error('pagerduty webhook not queued', { error: errorMessage(error) });
    reply(503, { error: 'queue unavailable; PagerDuty will retry' });
    return;
  }
  reply(202, { status: 'accepted' });
}

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new Error('too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
