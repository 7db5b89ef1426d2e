/**
 * The Slack bot end to end with real parts: signed slash commands into Bolt's HTTP
 * receiver, BullMQ on a real redis-server, a worker diagnosing the test API server, and
 * the fake Slack API recording the thread.
 */

import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { bundlesDir } from './helpers/bundles.js';
import { flushRedis } from './helpers/redis-server.js';
import { postCommand } from './helpers/slack-requests.js';
import { incidentChannel, type Stack, startStack, waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const n2 = 'ip-10-0-2-45.ec2.internal';
let stack: Stack | undefined;

beforeAll(async () => {
  const redis = new Redis(redisUrl);
  await redis.ping();
  await redis.quit();
});
beforeEach(async () => {
  await flushRedis(redisUrl);
});
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const start = async (bundle: string, extra: Partial<Parameters<typeof startStack>[0]> = {}) => {
  stack = await startStack({ redisUrl, bundleDir: path.join(bundlesDir, bundle), ...extra });
  return stack;
};

describe('/kproxy diagnose, end to end', () => {
  it('ingress <ns>/<name>: the route reaches the worker, and the report names it and its controller (issue 18 §4)', async () => {
    const s = await start('ingress-controller-crashloop');
    const ack = await postCommand(s.botUrl, 'diagnose prod-east ingress app/web-api');
    expect(ack.status).toBe(200);
    const [report] = await waitFor('the report', () =>
      s.slack.reports().length ? s.slack.reports() : undefined,
    );
    expect(s.slack.messages[0]?.text).toContain('Diagnosing Ingress app/web-api on prod-east');
    expect(report?.metadata).toMatchObject({ event_payload: { root_cause: 'ingress', severity: 'HIGH' } });
    const text = JSON.stringify(report?.blocks);
    expect(text).toContain('Ingress path broken (backend or controller) · prod-east');
    expect(text).toContain('Ingress app/web-api → Service app/web-api');
    expect(text).toContain('port 80 is already in use. Please check the flag --http-port');
  });

  it.each([
    ['stale-endpoints', 'stale_endpoints', 'HIGH'],
    ['kube-proxy-crashloop', 'pod_crash', 'HIGH'],
    ['healthy', 'none', 'NONE'],
  ])('%s: ack, thread parent, progress, final report with %s', async (bundle, category, severity) => {
    const s = await start(bundle);
    const ack = await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`);
    expect(ack.status).toBe(200);
    expect(ack.body).toBe('');

    const [report] = await waitFor('the report', () =>
      s.slack.reports().length ? s.slack.reports() : undefined,
    );
    const parent = s.slack.messages[0];
    expect(parent?.text).toContain(
      'Diagnosing app/web-api (node ip-10-0-2-45.ec2.internal) on prod-east, requested by <@U0ONCALL01>',
    );
    expect(parent?.thread_ts).toBeUndefined();
    expect(report?.thread_ts).toBe(parent?.ts);
    expect(report?.metadata).toMatchObject({
      event_type: 'kproxy_diagnosis',
      event_payload: {
        cluster: 'prod-east',
        root_cause: category,
        severity,
        job_id: expect.stringMatching(/^diag__/),
      },
    });
    // The header says the fault in words; the notification text keeps the category to search for.
    const header = (report?.blocks?.[0] as { text?: { text?: string } } | undefined)?.text?.text;
    expect(header).not.toMatch(/[a-z]_[a-z]/);
    expect(report?.text).toContain(category === 'none' ? 'no fault found' : category);

    const updates = await waitFor('the final parent update', () => {
      const u = s.slack.callsOf('chat.update').filter((c) => c.params.ts === parent?.ts);
      return u.some((c) => String(c.params.text).includes('findings in the thread')) ? u : undefined;
    });
    expect(updates.at(-1)?.params.text).toContain(category === 'none' ? 'no fault found' : `\`${category}\``);
    expect(updates.some((u) => /\d+\/\d+ checks · /.test(String(u.params.text)))).toBe(true);
    expect(s.slack.reports()).toHaveLength(1);
    await waitFor('the target to be free', async () => (await s.redis.keys('kproxy:running:*')).length === 0);
  });

  it('report buttons carry only opaque references kept in Redis', async () => {
    const s = await start('stale-endpoints');
    await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`);
    const [report] = await waitFor('the report', () =>
      s.slack.reports().length ? s.slack.reports() : undefined,
    );
    const actions = report?.blocks?.find((b) => (b as { type: string }).type === 'actions') as {
      elements: { value: string; text: { text: string } }[];
    };
    expect(actions.elements.length).toBeGreaterThan(0);
    for (const button of actions.elements) {
      // The action id, then a random reference: nothing a user could forge into another action.
      expect(button.value).toMatch(/^[a-z-]+\.[0-9a-f-]{36}$/);
      expect(JSON.parse((await s.redis.get(`kproxy:action:${button.value}`)) ?? '{}').action).toBe(
        button.value.split('.')[0],
      );
      expect(JSON.parse((await s.redis.get(`kproxy:action:${button.value}`)) ?? '{}')).toMatchObject({
        cluster: 'prod-east',
      });
    }
  });
});

describe('commands that run nothing', () => {
  it.each([
    ['diagnose', '`diagnose` needs a cluster name'],
    ['diagnose prod-east web-api', '`web-api` must be NAMESPACE/NAME'],
    ['diagnose prod-east app/web-api --node', '`--node` needs a node name'],
    ['diagnose prod-east app/web-api --force', 'unknown option `--force`'],
    ['frobnicate <@U123>', 'unknown command `frobnicate`'],
  ])('%j gets an ephemeral usage message naming the problem', async (text, problem) => {
    const s = await start('healthy');
    const ack = await postCommand(s.botUrl, text);
    expect(ack.status).toBe(200);
    const body = JSON.parse(ack.body) as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain(problem);
    expect(body.text).toContain('/kproxy diagnose <cluster>');
    expect(await s.queue.getJobCounts()).toMatchObject({ waiting: 0, active: 0, completed: 0 });
    expect(s.slack.callsOf('chat.postMessage')).toEqual([]);
  });

  it('help and clusters answer ephemerally', async () => {
    const s = await start('healthy');
    expect(JSON.parse((await postCommand(s.botUrl, 'help')).body).text).toContain('*Usage*');
    expect(JSON.parse((await postCommand(s.botUrl, 'clusters')).body).text).toBe(
      'Clusters this channel may diagnose: `prod-east`',
    );
    expect(JSON.parse((await postCommand(s.botUrl, 'clusters', { channel: 'C0OTHER001' })).body).text).toBe(
      'This channel may not diagnose any cluster.',
    );
  });

  it('refuses a channel not allowed for the cluster, and unknown clusters, alike', async () => {
    const s = await start('healthy');
    const other = JSON.parse(
      (await postCommand(s.botUrl, 'diagnose prod-east app/web-api', { channel: 'C0OTHER001' })).body,
    ) as { text: string };
    const unknown = JSON.parse((await postCommand(s.botUrl, 'diagnose prod-west app/web-api')).body) as {
      text: string;
    };
    expect(other.text).toContain('this channel may not diagnose a cluster named `prod-east`');
    expect(unknown.text).toContain('this channel may not diagnose a cluster named `prod-west`');
    expect(s.slack.callsOf('chat.postMessage')).toEqual([]);
  });

  it('enforces the user allowlist', async () => {
    const s = await start('healthy', { extraConfig: 'users: { allow: [U0SOMEONE1] }' });
    const refused = JSON.parse((await postCommand(s.botUrl, 'diagnose prod-east app/web-api')).body) as {
      text: string;
    };
    expect(refused.text).toContain('not on the list of users allowed');
  });

  it('rate-limits a user, ephemerally, without enqueuing', async () => {
    const s = await start('healthy', {
      extraConfig: 'rateLimits: { perUser: { max: 1, windowSeconds: 60 } }',
      worker: false,
    });
    expect((await postCommand(s.botUrl, 'diagnose prod-east app/web-api')).body).toBe('');
    const limited = JSON.parse(
      (await postCommand(s.botUrl, 'diagnose prod-east kube-system/kube-dns')).body,
    ) as { text: string };
    expect(limited.text).toMatch(/Too many diagnoses requested here; try again in \d+s/);
    await waitFor('the first job', async () => (await s.queue.getJobCounts()).waiting === 1);
  });

  it('rejects a bad signature and a stale timestamp with 401', async () => {
    const s = await start('healthy');
    expect((await postCommand(s.botUrl, 'help', { secret: 'wrong-secret' })).status).toBe(401);
    expect(
      (await postCommand(s.botUrl, 'help', { timestamp: Math.floor(Date.now() / 1000) - 301 })).status,
    ).toBe(401);
    expect(s.slack.calls.filter((c) => c.method !== 'auth.test')).toEqual([]);
  });
});

describe('idempotency', () => {
  it('a second request for the same cluster and target joins the running thread', async () => {
    const s = await start('healthy', { worker: false });
    await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`);
    await waitFor('the parent', () => s.slack.messages[0]);
    await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`, { user: 'U0SECOND01' });
    const joined = await waitFor('the join reply', () =>
      s.slack.messages.find((m) => m.text?.includes('also asked')),
    );
    expect(joined.thread_ts).toBe(s.slack.messages[0]?.ts);
    expect(joined.text).toContain('<@U0SECOND01>');
    expect((await s.queue.getJobCounts()).waiting).toBe(1);
    s.startWorker();
    await waitFor('the report', () => s.slack.reports().length === 1);
  });

  it("Slack's retry of a request (X-Slack-Retry-Num, same trigger id) does not run twice", async () => {
    const s = await start('healthy', { worker: false });
    await postCommand(s.botUrl, 'diagnose prod-east app/web-api', { triggerId: '1234.5678.abcd' });
    const retry = await postCommand(s.botUrl, 'diagnose prod-east app/web-api', {
      triggerId: '1234.5678.abcd',
      headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
    });
    expect(retry.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.slack.callsOf('chat.postMessage')).toHaveLength(1);
    expect((await s.queue.getJobCounts()).waiting).toBe(1);
  });

  it('Slack 429s are waited out (Retry-After) and 5xx retried: one report, in order', async () => {
    const s = await start('stale-endpoints');
    s.slack.fail(/^chat\.postMessage$/, 429, 1, 1);
    s.slack.fail(/^chat\.postMessage$/, 500, 1);
    await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`);
    await waitFor('the report', () => s.slack.reports().length === 1);
    const posts = s.slack.callsOf('chat.postMessage');
    expect(posts.length).toBe(4);
    // The SDK saw the 429 with its Retry-After and waited it out before retrying.
    expect(await s.metrics.text()).toMatch(/kproxy_slack_retries_total\{method="[^"]*chat\.postMessage"\} 1/);
    expect(s.slack.messages.map((m) => (m.thread_ts ? 'reply' : 'parent'))).toEqual(['parent', 'reply']);
  });

  it('a Slack outage (5xx for a while, then 429s) during a job: after it, each message arrives once, in order', async () => {
    const s = await start('stale-endpoints', { worker: false });
    await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`);
    await waitFor('the thread parent', () => s.slack.messages.length === 1);
    // The outage starts while the job waits: 6 failures in a row outlast one call's retries
    // (4 attempts in tests), so the job itself is retried; then Slack rate-limits twice.
    s.slack.fail(/^chat\.(postMessage|update)$/, 500, 6);
    s.slack.fail(/^chat\.postMessage$/, 429, 2, 1);
    s.startWorker();
    await waitFor('the report', () => s.slack.reports().length === 1);
    await new Promise((r) => setTimeout(r, 500));
    const parents = s.slack.messages.filter((m) => !m.thread_ts);
    expect(parents).toHaveLength(1);
    const thread = s.slack.messages.filter((m) => m.thread_ts === parents[0]?.ts);
    expect(thread.filter((m) => m.metadata?.event_type === 'kproxy_diagnosis')).toHaveLength(1);
    expect(s.slack.messages.map((m) => (m.thread_ts ? 'reply' : 'parent'))).toEqual(['parent', 'reply']);
  });

  it('a long run of 429s is waited out, not counted as failures: the job succeeds on its first attempt', async () => {
    const s = await start('stale-endpoints', { worker: false });
    await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`);
    await waitFor('the thread parent', () => s.slack.messages.length === 1);
    // More 429s in a row than the 5xx retry budget (3 in tests), each with Retry-After: 1.
    s.slack.fail(/^chat\.postMessage$/, 429, 5, 1);
    s.startWorker();
    await waitFor('the report', () => s.slack.reports().length === 1);
    const [job] = await waitFor('the completed job', async () => {
      const jobs = await s.queue.getJobs(['completed']);
      return jobs.length > 0 ? jobs : undefined;
    });
    expect(job?.attemptsMade).toBe(1);
    expect(s.slack.reports()).toHaveLength(1);
  });

  it('a retried job whose report is already in the thread does not post another', async () => {
    const s = await start('healthy');
    await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`);
    await waitFor('the report', () => s.slack.reports().length === 1);
    const [job] = await waitFor('the completed job', async () => {
      const jobs = await s.queue.getJobs(['completed']);
      return jobs.length > 0 ? jobs : undefined;
    });
    expect(job).toBeDefined();
    await s.redis.del(`kproxy:report:${job?.id}`);
    await job?.retry('completed');
    await waitFor(
      'the rerun',
      async () =>
        (await s.queue.getJobCounts()).completed === 1 && s.slack.callsOf('conversations.replies').length > 0,
    );
    expect(s.slack.reports()).toHaveLength(1);
  });
});

describe('failures', () => {
  it('a job that finally fails says so in the thread and frees the target', async () => {
    const s = await start('healthy');
    await s.api.server.stop();
    await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`);
    const failure = await waitFor('the failure reply', () =>
      s.slack.messages.find((m) => m.thread_ts && m.text?.includes('failed')),
    );
    expect(failure.text).toContain(
      'The diagnosis of app/web-api (node ip-10-0-2-45.ec2.internal) on prod-east failed: cannot use the Kubernetes API of context bundle: connection failed (ECONNREFUSED)',
    );
    await waitFor('the parent update', () => s.slack.messages[0]?.text?.includes(':x: the diagnosis failed'));
    expect(s.slack.reports()).toEqual([]);
    await waitFor('the target to be free', async () => (await s.redis.keys('kproxy:running:*')).length === 0);
  });
});

describe('a node that does not exist', () => {
  it('is a clear reply in the thread, naming the nodes, and the job is not retried', async () => {
    const s = await start('healthy');
    await postCommand(s.botUrl, 'diagnose prod-east app/web-api --node ip-1-2-3-4');
    const failure = await waitFor(
      'the failure reply',
      () => s.slack.messages.find((m) => m.thread_ts && m.text?.includes('failed')),
      30_000,
    );
    expect(failure.text).toBe(
      ':x: The diagnosis of app/web-api (node ip-1-2-3-4) on prod-east failed: node ip-1-2-3-4 not found; nodes are ip-10-0-1-23.ec2.internal, ip-10-0-2-45.ec2.internal, ip-10-0-3-67.ec2.internal',
    );
    const [job] = await s.queue.getJobs(['failed']);
    expect(job?.attemptsMade).toBe(1);
    expect(s.slack.reports()).toEqual([]);
  });
});

describe('an Ingress that does not exist', () => {
  it('is a clear reply in the thread naming it, and the job is not retried', async () => {
    const s = await start('ingress-backend-port-mismatch');
    await postCommand(s.botUrl, 'diagnose prod-east ingress app/nope');
    const failure = await waitFor(
      'the failure reply',
      () => s.slack.messages.find((m) => m.thread_ts && m.text?.includes('failed')),
      30_000,
    );
    expect(failure.text).toBe(
      ':x: The diagnosis of Ingress app/nope on prod-east failed: ingress app/nope not found',
    );
    const [job] = await s.queue.getJobs(['failed']);
    expect(job?.attemptsMade).toBe(1);
    expect(s.slack.reports()).toEqual([]);
  });
});

describe('Redis outage', () => {
  it('the command is still acknowledged at once, with a clear ephemeral error, and nothing runs', async () => {
    const s = await start('healthy', { botRedisDown: true, worker: false });
    const ack = await postCommand(s.botUrl, 'diagnose prod-east app/web-api');
    expect(ack.status).toBe(200);
    expect(JSON.parse(ack.body)).toEqual({
      response_type: 'ephemeral',
      text: ':warning: kproxy cannot reach its queue (Redis) right now; nothing was started. Try again in a minute.',
    });
    expect(s.slack.callsOf('chat.postMessage')).toEqual([]);
  });
});

describe('HTTP routes', () => {
  it('serves /healthz, /readyz and Prometheus /metrics on the probe listener', async () => {
    const s = await start('healthy');
    await postCommand(s.botUrl, 'help');
    expect((await fetch(`${s.healthUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${s.healthUrl}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${s.healthUrl}/metrics`)).text();
    expect(metrics).toContain('kproxy_commands_total{outcome="help"} 1');
    expect(metrics).toMatch(/kproxy_jobs\{state="waiting"\} \d+/);
    expect(incidentChannel).toBe('C0INCIDENT1');
  });
});

describe('worker crash', () => {
  it('a worker killed (SIGKILL) mid-diagnosis is recovered and the thread gets exactly one report', async () => {
    const { spawn } = await import('node:child_process');
    const s = await start('stale-endpoints', { worker: false });
    // Slow the kube-proxy log read so the job is surely mid-flight when the worker dies.
    s.api.server.faults.push({ match: /\/log$/, respond: 'delay', ms: 3000 });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'support', 'worker-process.ts')],
      {
        env: {
          ...process.env,
          KPROXY_TEST_CONFIG_YAML: s.configYaml,
          REDIS_URL: redisUrl,
          SLACK_API_URL: s.slack.apiUrl,
          BULLMQ_PREFIX: s.prefix,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout?.on('data', (c: Buffer) => {
      output += String(c);
    });
    await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`);
    await waitFor('the job to be active in the child', () => output.includes('active'));
    await waitFor('the child to read logs', () => s.api.server.requests.some((r) => r.path.endsWith('/log')));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(s.slack.reports()).toHaveLength(0);

    s.api.server.faults.length = 0;
    s.startWorker({ lockDuration: 1000, stalledInterval: 500 });
    await waitFor('the recovered report', () => s.slack.reports().length === 1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(s.slack.reports()).toHaveLength(1);
    expect(s.slack.reports()[0]?.metadata?.event_payload.root_cause).toBe('stale_endpoints');
  });
});

describe('Socket Mode', () => {
  it('receives /kproxy over the Socket Mode WebSocket, acks the envelope, and reports in the thread', async () => {
    const s = await start('node-cni-notready', { socketMode: true });
    await waitFor('the Socket Mode connection', () => s.slack.sockets.length > 0);
    expect(s.slack.callsOf('apps.connections.open')).toHaveLength(1);
    const ack = await s.slack.sendEnvelope('slash_commands', {
      token: 'legacy',
      team_id: 'T0TEST',
      channel_id: incidentChannel,
      user_id: 'U0ONCALL01',
      command: '/kproxy',
      text: `diagnose prod-east app/web-api --node ${n2}`,
      api_app_id: 'A0KPROXY',
      response_url: `${s.slack.url}/response/1`,
      trigger_id: 'socket.trigger.1',
    });
    expect(ack.envelope_id).toMatch(/^env-/);
    const [report] = await waitFor('the report', () =>
      s.slack.reports().length ? s.slack.reports() : undefined,
    );
    expect(report?.metadata?.event_payload.root_cause).toBe('node_network');
    const usage = await s.slack.sendEnvelope('slash_commands', {
      team_id: 'T0TEST',
      channel_id: incidentChannel,
      user_id: 'U0ONCALL01',
      command: '/kproxy',
      text: 'bogus',
      api_app_id: 'A0KPROXY',
      trigger_id: 'socket.trigger.2',
    });
    expect(JSON.stringify(usage.payload)).toContain('unknown command `bogus`');
  });
});
