/**
 * PagerDuty auto-triage end to end through the real entry point (bot + workers): signed
 * v3 webhooks, real Redis and BullMQ, the fake Slack API, a fake PagerDuty REST API, and
 * the test API server as the cluster.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Running } from '../src/main.js';
import { signPagerDuty } from '../src/pagerduty/signature.js';
import { bundlesDir } from './helpers/bundles.js';
import { startAll } from './helpers/entry.js';
import { FakePagerDuty, incidentEvent } from './helpers/fake-pagerduty.js';
import { FakeSlack } from './helpers/fake-slack.js';
import { serve, servedClusterYaml } from './helpers/live.js';
import { flushRedis } from './helpers/redis-server.js';
import { waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const secrets = ['pd-secret-old-0f3a', 'pd-secret-new-9b21'];
const n2 = 'ip-10-0-2-45.ec2.internal';
const cleanups: (() => Promise<unknown>)[] = [];

interface PdStack {
  url: string;
  slack: FakeSlack;
  pd: FakePagerDuty;
  running: Running;
}

beforeEach(async () => {
  await flushRedis(redisUrl);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startPd(bundle = 'stale-endpoints', extra = ''): Promise<PdStack> {
  const slack = new FakeSlack();
  await slack.start();
  cleanups.push(() => slack.stop());
  const pd = new FakePagerDuty();
  const pdUrl = await pd.start();
  cleanups.push(() => pd.stop());
  const api = await serve(path.join(bundlesDir, bundle));
  cleanups.push(() => api.stop());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-pd-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'kproxy.yaml');
  await writeFile(
    config,
    [
      ...servedClusterYaml(api, ['C0INCIDENT1', 'C0PAGES0001'], 'debug-pod'),
      'pagerduty:',
      `  apiUrl: ${pdUrl}`,
      '  note: { enabled: true, from: oncall@example.com }',
      '  services:',
      '    - id: PWEBAPI01',
      '      cluster: prod-east',
      '      channel: C0PAGES0001',
      '      target:',
      '        customDetails: { namespace: k8s_namespace, service: k8s_service, node: k8s_node }',
      "        titlePattern: '(?<namespace>[a-z0-9-]+)/(?<service>[a-z0-9-]+) unreachable'",
      extra,
    ].join('\n'),
  );
  const { running, url } = await startAll(slack, redisUrl, config, {
    PAGERDUTY_WEBHOOK_SECRETS: secrets.join(','),
    PAGERDUTY_API_TOKEN: 'pd-api-token-u+abc',
  });
  cleanups.push(() => running.stop());
  return { url, slack, pd, running };
}

async function deliver(
  s: PdStack,
  event: unknown,
  o: { secret?: string; signature?: string; webhookId?: string; raw?: string } = {},
) {
  const raw = o.raw ?? JSON.stringify(event);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-webhook-id': o.webhookId ?? `wh-${Math.random().toString(36).slice(2)}`,
  };
  const signature = o.signature ?? signPagerDuty(raw, o.secret ?? (secrets[1] as string));
  if (signature) headers['x-pagerduty-signature'] = signature;
  const res = await fetch(`${s.url}/pagerduty/webhook`, { method: 'POST', body: raw, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const triggered = (incidentId: string, number: number, title = 'app/web-api unreachable from ip-10-0-2-45') =>
  incidentEvent({ eventType: 'incident.triggered', incidentId, number, title, serviceId: 'PWEBAPI01' });

describe('incident.triggered', () => {
  it('opens a thread in the mapped channel and diagnoses the target from the alert custom_details', async () => {
    const s = await startPd();
    s.pd.details.set('PINC00001', { k8s_namespace: 'app', k8s_service: 'web-api', k8s_node: n2 });
    expect(await deliver(s, triggered('PINC00001', 1234))).toEqual({
      status: 202,
      body: { status: 'accepted' },
    });
    const [report] = await waitFor('the report', () =>
      s.slack.reports().length ? s.slack.reports() : undefined,
    );
    const parent = s.slack.messages[0];
    expect(parent?.channel).toBe('C0PAGES0001');
    expect(parent?.text).toContain(
      ':rotating_light: <https://acme.pagerduty.com/incidents/PINC00001|PagerDuty #1234> — app/web-api unreachable from ip-10-0-2-45',
    );
    expect(parent?.text).toContain('high urgency · service web-api (prod-east)');
    expect(report?.thread_ts).toBe(parent?.ts);
    expect(report?.metadata?.event_payload).toMatchObject({
      root_cause: 'stale_endpoints',
      target: `app/web-api@${n2}`,
    });
    await waitFor('the note', () => s.pd.notes.length === 1);
    expect(s.pd.notes[0]).toMatchObject({
      incident: 'PINC00001',
      from: 'oncall@example.com',
      auth: 'Token token=pd-api-token-u+abc',
    });
    expect(s.pd.notes[0]?.content).toMatch(/^kproxy: stale_endpoints \(HIGH\)/);
    await waitFor('the parent', () => s.slack.messages[0]?.text?.includes('findings in the thread'));
  });

  it('falls back to the title pattern, and to a cluster-wide diagnosis when the incident names no target', async () => {
    const s = await startPd('healthy');
    await deliver(s, triggered('PINC00002', 2, 'app/web-api unreachable'));
    await deliver(s, triggered('PINC00003', 3, 'Latency high on checkout'));
    await waitFor('two reports', () => s.slack.reports().length === 2);
    const targets = s.slack
      .reports()
      .map((r) => r.metadata?.event_payload.target)
      .sort();
    expect(targets).toEqual(['/', 'app/web-api']);
  });

  it('redeliveries create nothing new; incidents for the same target within the window share one diagnosis', async () => {
    const s = await startPd('healthy');
    s.pd.details.set('PINC00004', { k8s_namespace: 'app', k8s_service: 'web-api', k8s_node: n2 });
    s.pd.details.set('PINC00005', { k8s_namespace: 'app', k8s_service: 'web-api', k8s_node: n2 });
    await deliver(s, triggered('PINC00004', 4), { webhookId: 'wh-same' });
    await deliver(s, triggered('PINC00004', 4), { webhookId: 'wh-same' });
    await deliver(s, triggered('PINC00004', 4), { webhookId: 'wh-other-delivery-same-incident' });
    await waitFor('the report', () => s.slack.reports().length === 1);
    await deliver(s, triggered('PINC00005', 5));
    const shared = await waitFor('the shared reply', () =>
      s.slack.messages.find((m) => m.text?.startsWith('Same cluster and target as PagerDuty #4')),
    );
    expect(shared.text).toContain('see that thread');
    await new Promise((r) => setTimeout(r, 500));
    expect(s.slack.messages.filter((m) => !m.thread_ts).map((m) => m.text?.split('\n')[0])).toHaveLength(2);
    expect(s.slack.reports()).toHaveLength(1);
  });

  it('an incident of an unmapped service is skipped, never guessed', async () => {
    const s = await startPd('healthy');
    const other = incidentEvent({
      eventType: 'incident.triggered',
      incidentId: 'PINC00006',
      number: 6,
      title: 'app/web-api unreachable',
      serviceId: 'POTHER001',
    });
    expect((await deliver(s, other)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 500));
    expect(s.slack.callsOf('chat.postMessage')).toEqual([]);
  });
});

describe('status events', () => {
  it('acknowledged, reassigned and resolved are told in the thread and on the parent', async () => {
    const s = await startPd('healthy');
    await deliver(s, triggered('PINC00007', 7));
    await waitFor('the report', () => s.slack.reports().length === 1);
    await deliver(
      s,
      incidentEvent({
        eventType: 'incident.acknowledged',
        incidentId: 'PINC00007',
        number: 7,
        title: 'x',
        serviceId: 'PWEBAPI01',
        agent: 'Alice Oncall',
      }),
    );
    await deliver(
      s,
      incidentEvent({
        eventType: 'incident.reassigned',
        incidentId: 'PINC00007',
        number: 7,
        title: 'x',
        serviceId: 'PWEBAPI01',
      }),
    );
    await deliver(
      s,
      incidentEvent({
        eventType: 'incident.resolved',
        incidentId: 'PINC00007',
        number: 7,
        title: 'x',
        serviceId: 'PWEBAPI01',
        agent: 'Alice Oncall',
      }),
    );
    await waitFor('the resolved reply', () =>
      s.slack.messages.some((m) => m.text === ':white_check_mark: Resolved by Alice Oncall'),
    );
    const replies = s.slack.messages
      .filter((m) => m.thread_ts === s.slack.messages[0]?.ts)
      .map((m) => m.text);
    // PagerDuty's order is kept: one status event at a time.
    expect(replies.filter((r) => /Acknowledged|Reassigned|Resolved/.test(r ?? ''))).toEqual([
      ':eyes: Acknowledged by Alice Oncall',
      ':arrows_counterclockwise: Reassigned to Oncall Engineer',
      ':white_check_mark: Resolved by Alice Oncall',
    ]);
    await waitFor('the parent status', () =>
      s.slack.messages[0]?.text?.endsWith(':white_check_mark: Resolved by Alice Oncall'),
    );
    expect(s.slack.messages[0]?.text).toContain('findings in the thread');
  });
});

describe('webhook security and input', () => {
  it('refuses a missing or bad signature with 401 and does nothing else', async () => {
    const s = await startPd('healthy');
    expect((await deliver(s, triggered('PINC00008', 8), { signature: '' })).status).toBe(401);
    expect((await deliver(s, triggered('PINC00008', 8), { secret: 'not-the-secret' })).status).toBe(401);
    expect((await deliver(s, triggered('PINC00008', 8), { signature: 'v1=zz' })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(s.slack.callsOf('chat.postMessage')).toEqual([]);
  });

  it('accepts any of several v1 signatures and any configured secret (rotation)', async () => {
    const s = await startPd('healthy');
    const event = incidentEvent({
      eventType: 'incident.priority_updated',
      incidentId: 'PINC00009',
      number: 9,
      title: 'x',
      serviceId: 'PWEBAPI01',
    });
    const raw = JSON.stringify(event);
    const both = `${signPagerDuty(raw, 'stale-secret')},${signPagerDuty(raw, secrets[0] as string)}`;
    expect(await deliver(s, event, { signature: both, raw })).toEqual({
      status: 202,
      body: { status: 'ignored', event_type: 'incident.priority_updated' },
    });
  });

  it('answers 400 for a malformed body and 202 for unknown event types', async () => {
    const s = await startPd('healthy');
    expect((await deliver(s, undefined, { raw: '{"event": ' })).status).toBe(400);
    expect((await deliver(s, undefined, { raw: JSON.stringify({ event: { id: 'x' } }) })).status).toBe(400);
    const badIncident = {
      event: { id: 'e1', event_type: 'incident.triggered', data: { id: 'P1', type: 'incident' } },
    };
    expect((await deliver(s, badIncident)).status).toBe(400);
    expect(
      (
        await deliver(s, {
          event: { id: 'e2', event_type: 'service.updated', data: { id: 'S1', type: 'service' } },
        })
      ).status,
    ).toBe(202);
  });
});

describe('replays and hostile bodies (issue 14)', () => {
  const status = (eventType: string, occurredAt: string, eventId?: string) => {
    const e = incidentEvent({
      eventType,
      incidentId: 'PINC00010',
      number: 10,
      title: 'x',
      serviceId: 'PWEBAPI01',
      agent: 'Alice Oncall',
      ...(eventId ? { eventId } : {}),
    }) as { event: { occurred_at: string } };
    e.event.occurred_at = occurredAt;
    return e;
  };
  const replies = (s: PdStack) =>
    s.slack.messages
      .filter((m) => m.thread_ts && /Acknowledged|Resolved/.test(m.text ?? ''))
      .map((m) => m.text);

  it('a status event is applied once however it is redelivered, and an older one never overrides a newer one', async () => {
    const s = await startPd('healthy');
    await deliver(s, triggered('PINC00010', 10));
    await waitFor('the report', () => s.slack.reports().length === 1, 30_000);
    const acked = status('incident.acknowledged', '2026-11-22T10:01:00.000Z');
    // The same signed event under three delivery ids (X-Webhook-Id is not signed).
    for (const webhookId of ['wh-a', 'wh-b', 'wh-c'])
      expect((await deliver(s, acked, { webhookId })).status).toBe(202);
    await deliver(s, status('incident.resolved', '2026-11-22T10:05:00.000Z'));
    await waitFor('the resolved reply', () =>
      replies(s).includes(':white_check_mark: Resolved by Alice Oncall'),
    );
    // An acknowledgement from before the resolution, arriving late (a new event id, older time).
    await deliver(s, status('incident.acknowledged', '2026-11-22T10:02:00.000Z', 'Q0LATEACK0001'));
    await new Promise((r) => setTimeout(r, 1000));
    expect(replies(s)).toEqual([
      ':eyes: Acknowledged by Alice Oncall',
      ':white_check_mark: Resolved by Alice Oncall',
    ]);
    expect(s.slack.messages[0]?.text?.endsWith(':white_check_mark: Resolved by Alice Oncall')).toBe(true);
  });

  it('10,000 nesting levels in a field kproxy does not use are dropped; in a field it uses, 400', async () => {
    const s = await startPd('healthy');
    const deep = `${'{"x":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const event = triggered('PINC00011', 11) as { event: Record<string, unknown> };
    // In the incident (event.data), beside the fields kproxy reads.
    const raw = JSON.stringify(event).replace('"priority":null', `"priority":${deep}`);
    expect(raw.length).toBeGreaterThan(50_000);
    expect(await deliver(s, undefined, { raw })).toEqual({ status: 202, body: { status: 'accepted' } });
    await waitFor('the report', () => s.slack.reports().length === 1, 30_000);
    const used = JSON.stringify(triggered('PINC00012', 12)).replace(
      /"service":\{[^}]*\}/,
      `"service":${deep}`,
    );
    expect((await deliver(s, undefined, { raw: used })).status).toBe(400);
  });
});
