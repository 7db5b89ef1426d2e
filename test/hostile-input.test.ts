/**
 * Hostile input, property-based (fast-check) and fixed cases: slash-command text, button
 * payloads, modal submissions, PagerDuty bodies and headers, configuration files and
 * bundles. Whatever arrives: no crash, no unhandled rejection, no 5xx, a clear error, and
 * no state changed (no approval, no queued job, no cluster write, no Slack message).
 */

import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { parseCommand } from '../src/bot/command.js';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import { ConfigError, parseConfig } from '../src/config/config.js';
import { diagnoseSource } from '../src/engine/engine.js';
import { KproxyError } from '../src/errors.js';
import type { Running } from '../src/main.js';
import { signPagerDuty, verifyPagerDutySignature } from '../src/pagerduty/signature.js';
import { bundlesDir, copyExample } from './helpers/bundles.js';
import { startAll } from './helpers/entry.js';
import { FakeSlack } from './helpers/fake-slack.js';
import { serve, servedClusterYaml } from './helpers/live.js';
import { flushRedis } from './helpers/redis-server.js';
import {
  postAction,
  postCommand,
  postViewSubmission,
  sign,
  signingSecret,
} from './helpers/slack-requests.js';
import { incidentChannel, type Stack, startStack, waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

/** Text an attacker (or a fat finger) could send: any code points, mrkdwn, flags, huge. */
const hostileText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 600 }),
  fc
    .tuple(
      fc.constantFrom('diagnose', 'clusters', 'audit', 'help', 'approve', ''),
      fc.array(
        fc.oneof(
          fc.constantFrom(
            'prod-east',
            '--node',
            '--node=',
            '../../etc/passwd',
            '<!channel>',
            '<@U0APPR0000>',
            '`rm -rf`',
            'app/web-api',
            'a/b/c',
            '-1',
            '9999999999',
            '\u0000',
            '\u202e',
          ),
          fc.string({ maxLength: 70 }),
        ),
        { maxLength: 6 },
      ),
    )
    .map(([verb, args]) => [verb, ...args].join(' ')),
);

const noStackTrace = (text: string) => !/\n\s+at .+:\d+:\d+/.test(text) && !/\.ts:\d+/.test(text);

describe('pure parsers never throw', () => {
  it('slash-command text: parsed or refused with a problem, never an exception', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const parsed = parseCommand(text);
        if (parsed.ok) expect(['diagnose', 'clusters', 'audit', 'help']).toContain(parsed.command.kind);
        else expect(parsed.problem.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('configuration files: a Config or a ConfigError listing key paths, never another error', () => {
    const documents = fc.oneof(
      fc.anything().map((v) => stringify(v)),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc
        .record({
          clusters: fc.array(
            fc.record({
              name: fc.oneof(fc.string(), fc.constant('prod-east')),
              kubeconfig: fc.option(fc.record({ path: fc.string(), context: fc.string() })),
              inCluster: fc.option(fc.oneof(fc.boolean(), fc.string())),
              channels: fc.array(fc.oneof(fc.string(), fc.constant('C0INCIDENT1'))),
            }),
            { maxLength: 3 },
          ),
          approvals: fc.option(fc.anything()),
          worker: fc.option(fc.record({ concurrency: fc.integer(), timeoutSeconds: fc.double() })),
        })
        .map((v) => stringify(v)),
    );
    fc.assert(
      fc.property(documents, (text) => {
        try {
          parseConfig(text, 'hostile.yaml');
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as ConfigError).message).toMatch(/^hostile\.yaml: /);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('PagerDuty signatures: only the exact HMAC of the raw body verifies', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (body, header) => {
        expect(verifyPagerDutySignature(Buffer.from(body), header, ['s3cret'])).toBe(
          header === signPagerDuty(body, 's3cret'),
        );
        expect(verifyPagerDutySignature(Buffer.from(body), signPagerDuty(body, 's3cret'), ['s3cret'])).toBe(
          true,
        );
      }),
      { numRuns: 500 },
    );
  });
});

describe('Slack requests through the real Bolt receiver', () => {
  let s: Stack;
  const approver = 'U0APPR0000';
  beforeAll(async () => {
    await flushRedis(redisUrl);
    // No worker: anything that got queued would stay visible.
    s = await startStack({
      redisUrl,
      worker: false,
      bundleDir: path.join(bundlesDir, 'stale-endpoints'),
      extraConfig: [
        'rateLimits: { perUser: { max: 1000, windowSeconds: 60 }, perChannel: { max: 1000, windowSeconds: 60 } }',
        'approvals:',
        `  yellow: { approvers: { users: [${approver}] } }`,
        `  red: { approvers: { users: [${approver}] } }`,
      ].join('\n'),
    });
  });
  afterAll(() => s.stop());

  const nothingChanged = async () => {
    expect(await s.redis.keys('kproxy:approval:*')).toEqual([]);
    expect(await s.executeQueue.count()).toBe(0);
    expect(s.api.server.mutations).toEqual([]);
    expect(s.slack.callsOf('chat.postMessage')).toEqual([]);
  };

  it('any command text gets a 200 and a readable answer; only a valid diagnose queues a job', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileText,
        fc.constantFrom(incidentChannel, 'C0OTHER0001'),
        async (text, channel) => {
          const before = await s.queue.count();
          const res = await postCommand(s.botUrl, text, { channel, user: 'U0ONCALL01' });
          expect(res.status).toBe(200);
          expect(noStackTrace(res.body)).toBe(true);
          // A valid command is started after its ack: wait for that, so a start still in
          // flight is never counted against the next (invalid) text.
          await waitFor('the acknowledged commands started', () => s.pending.size === 0);
          const parsed = parseCommand(text);
          const mayQueue =
            parsed.ok &&
            parsed.command.kind === 'diagnose' &&
            parsed.command.cluster === 'prod-east' &&
            channel === incidentChannel;
          if (!mayQueue) expect(await s.queue.count()).toBe(before);
        },
      ),
      { numRuns: 150 },
    );
    // Queued diagnoses (valid texts) post their thread parent; drop them before the rest.
    await s.queue.obliterate({ force: true });
    s.slack.calls.length = 0;
    s.slack.messages.length = 0;
  });

  it('button clicks with forged or random values change nothing and answer ephemerally', async () => {
    const actionIds = fc.oneof(
      fc.constantFrom('kproxy_approve', 'kproxy_deny', 'kproxy_request_action_0', 'kproxy_request_action_7'),
      fc.string({ maxLength: 40 }),
    );
    const values = fc.oneof(
      fc.uuid(),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.constantFrom('', '*', '../../', 'kproxy:approval:*', '{"action":"drain-node","node":"x"}'),
    );
    await fc.assert(
      fc.asyncProperty(
        actionIds,
        values,
        fc.constantFrom(approver, 'U0ONCALL01'),
        async (actionId, value, user) => {
          const status = await postAction(s.botUrl, {
            user,
            actionId,
            value,
            channel: incidentChannel,
            messageTs: '1763805601.000001',
            responseUrl: `${s.slack.url}/response/${user}`,
          });
          expect(status).toBe(200);
        },
      ),
      { numRuns: 120 },
    );
    await new Promise((r) => setTimeout(r, 200));
    for (const r of s.slack.responses) expect(noStackTrace(String(r.body.text ?? ''))).toBe(true);
    await nothingChanged();
  });

  it('modal submissions with forged metadata or values are refused in the modal and change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('kproxy_red_reason', 'kproxy_red_confirm'),
        fc.oneof(fc.uuid(), fc.string({ unit: 'binary', maxLength: 100 })),
        fc.oneof(fc.string({ unit: 'binary', maxLength: 600 }), fc.constant(null)),
        async (callbackId, privateMetadata, value) => {
          const res = await postViewSubmission(s.botUrl, {
            user: approver,
            callbackId,
            privateMetadata,
            values:
              callbackId === 'kproxy_red_reason'
                ? { reason: { reason_input: { type: 'plain_text_input', value } } }
                : { confirm: { confirm_input: { type: 'plain_text_input', value } } },
          });
          expect(res.status).toBe(200);
          expect(res.body.response_action).toBe('errors');
        },
      ),
      { numRuns: 80 },
    );
    await nothingChanged();
  });

  it('malformed interactivity bodies and forged or stale signatures are refused', async () => {
    for (const body of [
      'payload=%7Bnot-json',
      'payload=',
      'garbage',
      `payload=${encodeURIComponent('[]')}`,
    ]) {
      const res = await fetch(`${s.botUrl}/slack/events`, { method: 'POST', body, headers: sign(body) });
      expect(res.status).toBeLessThan(500);
    }
    const click = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: approver }, actions: [{ action_id: 'kproxy_approve', value: 'x' }] }))}`;
    const forged = await fetch(`${s.botUrl}/slack/events`, {
      method: 'POST',
      body: click,
      headers: sign(click, undefined, 'not-the-signing-secret'),
    });
    expect(forged.status).toBe(401);
    const replayed = await fetch(`${s.botUrl}/slack/events`, {
      method: 'POST',
      body: click,
      headers: sign(click, Math.floor(Date.now() / 1000) - 10 * 60, signingSecret),
    });
    expect(replayed.status).toBe(401);
    await nothingChanged();
  });
});

describe('PagerDuty webhooks through the real entry point', () => {
  const secret = 'pd-secret-hostile-1';
  let running: Running;
  let slack: FakeSlack;
  let url: string;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    await flushRedis(redisUrl);
    slack = new FakeSlack();
    await slack.start();
    cleanups.push(() => slack.stop());
    const api = await serve(path.join(bundlesDir, 'healthy'));
    cleanups.push(() => api.stop());
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-hostile-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const config = path.join(dir, 'kproxy.yaml');
    await writeFile(
      config,
      [
        ...servedClusterYaml(api, ['C0PAGES0001']),
        'pagerduty:',
        '  services:',
        '    - { id: PWEBAPI01, cluster: prod-east, channel: C0PAGES0001 }',
      ].join('\n'),
    );
    const started = await startAll(slack, redisUrl, config, { PAGERDUTY_WEBHOOK_SECRETS: secret });
    running = started.running;
    cleanups.push(() => running.stop());
    url = `${started.url}/pagerduty/webhook`;
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('signed bodies of any shape: 202 or 400, never 5xx, nothing posted', async () => {
    const bodies = fc.oneof(
      fc.json({ maxDepth: 6 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc
        .record({
          event: fc.record({
            id: fc.string(),
            event_type: fc.constantFrom(
              'incident.triggered',
              'incident.resolved',
              'incident.acknowledged',
              'x',
            ),
            data: fc.anything(),
          }),
        })
        .map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (raw) => {
        const res = await fetch(url, {
          method: 'POST',
          body: raw,
          headers: {
            'content-type': 'application/json',
            'x-webhook-id': `wh-${Math.random()}`,
            'x-pagerduty-signature': signPagerDuty(raw, secret),
          },
        });
        expect([202, 400]).toContain(res.status);
        expect(noStackTrace(await res.text())).toBe(true);
      }),
      { numRuns: 150 },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(slack.callsOf('chat.postMessage')).toEqual([]);
  });

  it('unsigned, mis-signed or header-mangled deliveries: 401 and nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.json(),
        fc.option(fc.string({ maxLength: 200 }).filter((h) => /^[\t\x20-\x7e]*$/.test(h))),
        async (raw, signature) => {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (signature !== null) headers['x-pagerduty-signature'] = signature;
          const res = await fetch(url, { method: 'POST', body: raw, headers });
          expect(res.status).toBe(401);
        },
      ),
      { numRuns: 100 },
    );
    expect(slack.callsOf('chat.postMessage')).toEqual([]);
  });
});

describe('bundles', () => {
  /** Every file of an example, by path relative to the bundle. */
  async function filesOf(dir: string, rel = ''): Promise<string[]> {
    const out: string[] = [];
    for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) out.push(...(await filesOf(dir, child)));
      else out.push(child);
    }
    return out;
  }

  it('any file replaced by hostile content: a diagnosis, or an error naming that file; never a crash', async () => {
    const files = await filesOf(path.join(bundlesDir, 'stale-endpoints'));
    const jsonFiles = files.filter((f) => f.endsWith('.json'));
    const content = fc.oneof(
      fc.json({ maxDepth: 8 }),
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.anything().map((v) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [v] }) ?? 'null'),
      fc.constantFrom('', '{', '[]', 'null', '{"kind":"PodList","items":{}}', '{"items":[null,1,"x"]}'),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...jsonFiles), content, async (rel, text) => {
        const copy = await copyExample('stale-endpoints');
        try {
          await writeFile(path.join(copy.dir, rel), text);
          try {
            const d = await diagnoseSource(new BundleSource(copy.dir));
            expect(d.findings.length).toBeGreaterThan(0);
          } catch (error) {
            expect(error).toBeInstanceOf(KproxyError);
            expect((error as Error).message).toContain(rel.split(path.sep).join('/'));
            expect(noStackTrace((error as Error).message)).toBe(true);
          }
        } finally {
          await copy.cleanup();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('giant files are refused by name before they are read (sparse files past the limits)', async () => {
    const copy = await copyExample('stale-endpoints');
    try {
      for (const [rel, bytes] of [
        ['namespaces/app/pods.json', 513 * 1024 * 1024],
        ['nodes/ip-10-0-2-45.ec2.internal/iptables-save.txt', 129 * 1024 * 1024],
      ] as const) {
        const dir = copy.dir;
        const original = await readFile(path.join(dir, rel));
        await truncate(path.join(dir, rel), bytes);
        const error = await diagnoseSource(new BundleSource(dir)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(KproxyError);
        expect((error as Error).message).toMatch(new RegExp(`${rel}.*more than the limit`));
        await writeFile(path.join(dir, rel), original);
      }
    } finally {
      await copy.cleanup();
    }
  });

  it('deeply nested JSON (200,000 levels) is refused by name, not a stack overflow', async () => {
    const copy = await copyExample('stale-endpoints');
    try {
      const rel = 'namespaces/app/services.json';
      await writeFile(path.join(copy.dir, rel), `${'['.repeat(200_000)}${']'.repeat(200_000)}`);
      const error = await diagnoseSource(new BundleSource(copy.dir)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KproxyError);
      expect((error as Error).message).toContain(rel);
      // The original file is untouched elsewhere: a bundle is read, never written.
      expect(await readFile(path.join(bundlesDir, 'stale-endpoints', rel), 'utf8')).toContain('web-api');
    } finally {
      await copy.cleanup();
    }
  });
});
