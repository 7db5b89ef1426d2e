/** The process entry point (`npm start` runs start('all')) and `kproxy config check`. */

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { runCli } from '../src/cli/run.js';
import { start } from '../src/main.js';
import { diagnoseQueueName, executeQueueName } from '../src/queue/jobs.js';
import { bundlesDir } from './helpers/bundles.js';
import { startAll } from './helpers/entry.js';
import { FakeSlack } from './helpers/fake-slack.js';
import { type Served, serve } from './helpers/live.js';
import { postCommand } from './helpers/slack-requests.js';
import { waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempConfig(api: Served | undefined, body?: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-config-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'kproxy.yaml');
  await writeFile(
    file,
    body ??
      `clusters:\n  - name: prod-east\n    kubeconfig: { path: ${api?.kubeconfig}, context: bundle }\n    channels: [C0INCIDENT1]\n    nodeCaptures: debug-pod\n`,
  );
  return file;
}

/** An empty test Redis and a fake Slack API, both cleaned up after the test. */
async function emptyRedisAndFakeSlack(): Promise<FakeSlack> {
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  cleanups.push(() => redis.quit());
  const slack = new FakeSlack();
  await slack.start();
  cleanups.push(() => slack.stop());
  return slack;
}

describe('start("all")', () => {
  it('runs the bot and a worker in one process, serves health, diagnoses, and stops cleanly', async () => {
    const slack = await emptyRedisAndFakeSlack();
    const api = await serve(path.join(bundlesDir, 'conntrack-exhaustion'));
    cleanups.push(() => api.stop());
    const config = await tempConfig(api);
    const { running, url, healthUrl } = await startAll(slack, redisUrl, config);
    expect((await fetch(`${healthUrl}/healthz`)).status).toBe(200);
    await postCommand(url, 'diagnose prod-east app/web-api --node ip-10-0-2-45.ec2.internal');
    await waitFor('the report', () => slack.reports().length === 1);
    expect(slack.reports()[0]?.metadata?.event_payload.root_cause).toBe('conntrack');
    await running.stop();
    await expect(fetch(`${healthUrl}/healthz`)).rejects.toThrow();
  });

  it('a Slack outage while the bot starts does not break the commands that follow it', async () => {
    const slack = await emptyRedisAndFakeSlack();
    // Every auth.test attempt of the first round (the client retries twice) answers 500.
    slack.fail(/auth\.test/, 500, 3);
    const config = await tempConfig(
      undefined,
      'clusters:\n  - name: ops\n    inCluster: true\n    channels: [C0INCIDENT1]\n',
    );
    const { running, url } = await startAll(slack, redisUrl, config);
    cleanups.push(() => running.stop());
    // The first command meets the outage (Bolt cannot authorize it); later ones must work.
    const answers = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const answer = await postCommand(url, 'help');
      answers.push(answer.body);
      if (answer.body.includes('*Usage*')) break;
    }
    expect(answers.at(-1)).toContain('*Usage*');
  });

  it('a worker-only process serves its probes: /healthz always, /readyz while Redis answers', async () => {
    const config = await tempConfig(
      undefined,
      'clusters:\n  - name: prod-east\n    inCluster: true\n    channels: [C0INCIDENT1]\n',
    );
    const running = await start('worker', {
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      REDIS_URL: redisUrl,
      KPROXY_CONFIG: config,
      PORT: '0',
    });
    const url = `http://127.0.0.1:${running.port}`;
    expect(await (await fetch(`${url}/healthz`)).text()).toBe('ok\n');
    expect(await (await fetch(`${url}/readyz`)).text()).toBe('ready\n');
    expect((await fetch(`${url}/metrics`)).headers.get('content-type')).toBe('text/plain; version=0.0.4');
    await running.stop();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('KPROXY_WORKER_QUEUES chooses the queues a worker serves, so actions can run under their own identity', async () => {
    const config = await tempConfig(
      undefined,
      'clusters:\n  - name: prod-east\n    inCluster: true\n    channels: [C0INCIDENT1]\n',
    );
    const env = { SLACK_BOT_TOKEN: 'xoxb-test-token', REDIS_URL: redisUrl, KPROXY_CONFIG: config, PORT: '0' };
    const connection = new Redis(redisUrl);
    const queues = [diagnoseQueueName, executeQueueName].map((name) => new Queue(name, { connection }));
    cleanups.push(async () => {
      await Promise.all(queues.map((q) => q.close()));
      await connection.quit();
    });
    const served = async () => Promise.all(queues.map(async (q) => (await q.getWorkers()).length));
    const actions = await start('worker', { ...env, KPROXY_WORKER_QUEUES: 'execute' });
    cleanups.push(() => actions.stop());
    await waitFor('the execute worker only', async () => (await served()).join() === '0,1');
    const diagnosis = await start('worker', { ...env, KPROXY_WORKER_QUEUES: 'diagnose, pagerduty' });
    cleanups.push(() => diagnosis.stop());
    await waitFor('one worker on each queue', async () => (await served()).join() === '1,1');
    await expect(start('worker', { ...env, KPROXY_WORKER_QUEUES: 'execute,deploy' })).rejects.toThrow(
      /KPROXY_WORKER_QUEUES\[1\]: each must be one of diagnose, execute, pagerduty/,
    );
  });

  it('refuses to start on a bad environment or configuration, naming each problem', async () => {
    await expect(start('bot', { SLACK_BOT_TOKEN: 'not-a-token' })).rejects.toThrow(
      /environment: 1 problem\(s\):\n {2}SLACK_BOT_TOKEN: must be a bot token/,
    );
    const bad = await tempConfig(
      undefined,
      'clusters:\n  - name: Prod_East\n    channels: [general]\nbogus: 1\n',
    );
    await expect(start('worker', { SLACK_BOT_TOKEN: 'xoxb-x', KPROXY_CONFIG: bad })).rejects.toThrow(
      /line 2, column 5: clusters\[0\]\.name: must be lower-case[\s\S]*line 3, column 16: clusters\[0\]\.channels\[0\]: must be a Slack channel id[\s\S]*line 4, column 1: bogus: unknown key/,
    );
  });
});

describe('kproxy config check', () => {
  it('prints ok for a valid file and every problem for a bad one', async () => {
    const out = { text: '' };
    const err = { text: '' };
    const sink = (into: { text: string }) =>
      new Writable({
        write(chunk, _encoding, done) {
          into.text += String(chunk);
          done();
        },
      });
    const io = { stdout: sink(out), stderr: sink(err), env: {} };
    // The example as shipped, with its kubeconfig path pointing at a file that exists here.
    const example = await readFile(
      path.resolve(import.meta.dirname, '..', 'examples', 'kproxy.yaml'),
      'utf8',
    );
    const kubeconfig = await tempConfig(undefined, 'apiVersion: v1\nkind: Config\n');
    expect(example).toContain('/config/kubeconfig');
    const shipped = await tempConfig(undefined, example.replace('/config/kubeconfig', kubeconfig));
    expect(await runCli(['config', 'check', shipped], io)).toBe(0);
    expect(out.text).toMatch(
      /ok — 2 cluster\(s\): prod-east \(kubeconfig, 1 channel\(s\)\), prod-west \(eks, 1 channel\(s\)\)/,
    );
    const bad = await tempConfig(undefined, 'clusters: []\n');
    expect(await runCli(['config', 'check', bad], io)).toBe(2);
    expect(err.text).toContain('line 1, column 1: clusters: must list at least 1 item(s)');
  });

  it('refuses configurations that could never work or would be unsafe, naming each key', async () => {
    const err = { text: '' };
    const io = {
      stdout: new Writable({ write: (_c, _e, done) => done() }),
      stderr: new Writable({
        write(chunk, _encoding, done) {
          err.text += String(chunk);
          done();
        },
      }),
      env: {},
    };
    const bad = await tempConfig(
      undefined,
      [
        'clusters:',
        '  - name: prod-east',
        '    kubeconfig: { path: /nonexistent/kproxy/kubeconfig, context: prod-east }',
        '    channels: [C0INCIDENT1]',
        'approvals:',
        '  yellow: { approvers: { users: [U0AAAAAAA] }, required: 2 }',
        '  red: { approvers: { users: [] } }',
        'pagerduty:',
        '  services:',
        '    - { id: PWEBAPI01, cluster: prod-east, channel: C0ELSEWHERE }',
        '',
      ].join('\n'),
    );
    expect(await runCli(['config', 'check', bad], io)).toBe(2);
    expect(err.text).toContain(
      'pagerduty.services[0].channel: C0ELSEWHERE is not one of cluster "prod-east"\'s channels',
    );
    expect(err.text).toContain('approvals.yellow: required is 2 but only 1 approver(s) are named');
    expect(err.text).toContain('approvals.red: no approvers');
    // The file check comes once the rest is valid.
    const missing = await tempConfig(
      undefined,
      'clusters:\n  - name: prod-east\n    kubeconfig: { path: /nonexistent/kproxy/kubeconfig, context: x }\n    channels: [C0INCIDENT1]\n',
    );
    expect(await runCli(['config', 'check', missing], io)).toBe(2);
    expect(err.text).toContain(
      'clusters[0].kubeconfig.path: cannot read /nonexistent/kproxy/kubeconfig (ENOENT)',
    );
  });
});
