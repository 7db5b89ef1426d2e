/**
 * The v3 webhook envelope and the incident fields kproxy uses. Objects strip every other
 * field (z.object, not looseObject): whatever else a signed body carries (however deep) is
 * dropped here and never reaches the queue.
 */
import { z } from 'zod';

export const handledEventTypes = [
  'incident.triggered',
  'incident.acknowledged',
  'incident.resolved',
  'incident.reassigned',
] as const;
export type HandledEventType = (typeof handledEventTypes)[number];

const reference = z.object({
  id: z.string(),
  summary: z.string().nullish(),
  html_url: z.string().nullish(),
});

export const incidentSchema = z.object({
  id: z.string().min(1),
  type: z.literal('incident'),
  number: z.number().int().nullish(),
  title: z.string().nullish(),
  html_url: z.string().nullish(),
  status: z.string().nullish(),
  urgency: z.string().nullish(),
  service: reference,
  assignees: z.array(reference).nullish(),
});

export const webhookSchema = z.object({
  event: z.object({
    id: z.string().min(1),
    event_type: z.string().min(1),
    resource_type: z.string().nullish(),
    occurred_at: z.string().nullish(),
    agent: reference.nullish(),
    // The incident itself is read with incidentSchema; here only its kind, nothing kept.
    data: z.object({ id: z.string().nullish(), type: z.string().nullish() }).loose(),
  }),
});

export type Webhook = z.infer<typeof webhookSchema>;
export type Incident = z.infer<typeof incidentSchema>;

export const pagerDutyQueueName = 'kproxy-pagerduty';
/** Acknowledged/resolved/reassigned: one at a time, so a thread tells them in PagerDuty's order. */
export const pagerDutyStatusQueueName = 'kproxy-pagerduty-status';

/** What the webhook route hands to a worker (the verified, parsed event). */
export const pagerDutyJobSchema = z.strictObject({
  eventId: z.string(),
  eventType: z.enum(handledEventTypes),
  occurredAt: z.string().nullish(),
  agent: z.string().nullish(),
  incident: incidentSchema,
});
export type PagerDutyJob = z.infer<typeof pagerDutyJobSchema>;
