/**
 * The client's-eye probe from kproxy's entry points, against the test API server serving an
 * example bundle: the CLI (`diagnose`/`collect --probe debug-pod`), Slack (`/kproxy
 * diagnose` on a cluster whose kproxy.yaml enables `probe: debug-pod`), and the post-fix
 * verification after an approved action, which runs the probe again.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Diagnosis } from '../src/engine/diagnosis.js';
import { approvers, requestDelete } from './helpers/approvals.js';
import { bundlesDir } from './helpers/bundles.js';
import { cli } from './helpers/cli.js';
import { startAll } from './helpers/entry.js';
import { FakeSlack } from './helpers/fake-slack.js';
import { type Served, serve, servedClusterYaml } from './helpers/live.js';
import { deployGrants, probeGrants } from './helpers/rbac.js';
import { flushRedis } from './helpers/redis-server.js';
import { postCommand } from './helpers/slack-requests.js';
import { controlsOf, incidentChannel, startStack, waitFor } from './helpers/stack.js';

const n2 = 'ip-10-0-2-45.ec2.internal';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const reader = deployGrants('kproxy-reader', 'kproxy-reader-kube-system', 'kproxy-reader-nodes-proxy');

async function served(name: string): Promise<Served> {
  const s = await serve(path.join(bundlesDir, name), {
    rbac: [...reader, ...probeGrants('kube-system', 'app')],
  });
  cleanups.push(() => s.stop());
  return s;
}

const probe = (d: Diagnosis) => d.findings.find((f) => f.check === 'probe.path');
type CreatedPod = { metadata: { labels: Record<string, string> } };

describe('kproxy diagnose --probe debug-pod', () => {
  it('prints the matrix under the root cause', async () => {
    const s = await served('probe-vip-fails');
    const r = await cli(
      'diagnose',
      ...['--kubeconfig', s.kubeconfig, '--context', 'bundle', '--service', 'app/web-api', '--node', n2],
      ...['--node-captures', 'off', '--probe', 'debug-pod'],
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `  probe ✗ from ${n2} (namespace kube-system): name ✓ 172.20.91.14 · VIP 172.20.91.14:80 ✗ timeout · pods 3/3 ✓ · API ✗ timeout`,
    );
    expect(r.stdout).toContain('(stale_endpoints)');
  });

  it('kproxy collect --probe debug-pod writes the matrix; the bundle diagnoses as the live cluster did', async () => {
    const s = await served('probe-vip-fails');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-probe-collect-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const out = path.join(dir, 'incident');
    const live = [
      '--kubeconfig',
      s.kubeconfig,
      '--context',
      'bundle',
      '--service',
      'app/web-api',
      '--node',
      n2,
    ];
    const collected = await cli(
      'collect',
      ...live,
      '--node-captures',
      'off',
      '--probe',
      'debug-pod',
      '--out',
      out,
    );
    expect(collected.stderr).toContain(`Client's-eye probe from ${n2}`);
    expect(collected.code).toBe(0);
    const offline = await cli('diagnose', '--bundle', out, '--format', 'json');
    const d = JSON.parse(offline.stdout) as Diagnosis;
    expect(d.rootCause).toMatchObject({ category: 'stale_endpoints', nodes: [n2] });
    expect(probe(d)?.status).toBe('fail');
  });

  it('a bad --probe is one line naming it', async () => {
    const r = await cli(
      'diagnose',
      '--kubeconfig',
      '/nonexistent',
      '--service',
      'app/web-api',
      '--probe',
      'sometimes',
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('kproxy: --probe "sometimes": expected one of off, debug-pod');
  });
});

describe('/kproxy diagnose on a cluster with probe: debug-pod', () => {
  const redisUrl = inject('redisUrl');
  beforeEach(async () => {
    await flushRedis(redisUrl);
  });

  it('the report in the thread shows the matrix and the probe-decided cause', async () => {
    const slack = new FakeSlack();
    await slack.start();
    cleanups.push(() => slack.stop());
    const api = await served('probe-vip-fails');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-probe-slack-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const config = path.join(dir, 'kproxy.yaml');
    await writeFile(
      config,
      [...servedClusterYaml(api, ['C0INCIDENT1'], 'off'), '    probe: debug-pod', ''].join('\n'),
    );
    const started = await startAll(slack, redisUrl, config);
    cleanups.push(() => started.running.stop());
    const user = 'U0ONCALL01';
    const res = await postCommand(started.url, `diagnose prod-east app/web-api --node ${n2}`, {
      user,
      responseUrl: `${slack.url}/response/${user}`,
    });
    expect(res.status).toBe(200);
    const report = await waitFor('the report', () => slack.reports()[0], 60_000);
    const json = JSON.stringify(report);
    expect(json).toContain(
      `*Probe* from ${n2} (namespace kube-system): name ✓ 172.20.91.14 · VIP 172.20.91.14:80 ✗ timeout`,
    );
    expect(report.metadata?.event_payload).toMatchObject({ root_cause: 'stale_endpoints' });
    expect(
      (api.server.capturePods.created as CreatedPod[]).map((p) => p.metadata.labels['kproxy.io/role']),
    ).toEqual(['probe']);
    await waitFor('the probe pod deleted', () => api.server.liveDebugPods.length === 0 || undefined);
  }, 90_000);
});

describe('post-fix verification re-runs the probe', () => {
  const redisUrl = inject('redisUrl');
  beforeEach(async () => {
    await flushRedis(redisUrl);
  });

  it('after an approved kube-proxy restart the thread says the VIP answers now', async () => {
    // The served cluster after the DELETE: the same cluster, its probe now reaching the VIP.
    const s = await startStack({
      redisUrl,
      bundleDir: path.join(bundlesDir, 'probe-vip-fails'),
      api: { afterWrite: path.join(bundlesDir, 'probe-all-pass') },
      clusters: (api) =>
        [
          '  - name: prod-east',
          `    kubeconfig: { path: ${api.kubeconfig}, context: bundle }`,
          `    channels: [${incidentChannel}]`,
          '    nodeCaptures: off',
          '    probe: debug-pod',
        ].join('\n'),
      extraConfig: `approvals:\n  yellow: { approvers: { users: [${approvers.join(', ')}] }, required: 1 }\n`,
    });
    cleanups.push(() => s.stop());
    await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`, { user: 'U0ONCALL01' });
    const report = await waitFor('the report', () => s.slack.reports()[0], 60_000);
    const { button, click } = controlsOf(s, report);
    const { message, approvalId } = await requestDelete({ s, report, button, click });
    await click(approvers[0] as string, 'kproxy_approve', approvalId, message.ts);
    const verification = await waitFor(
      'the post-fix check',
      () => s.slack.messages.find((m) => m.text?.includes('Post-fix check')),
      60_000,
    );
    expect(verification.text).toBe(
      `:white_check_mark: Post-fix check: \`stale_endpoints\` cleared (now: no fault found). Client's-eye probe: the VIP answers now from ${n2} (name ✓ 172.20.91.14 · VIP 172.20.91.14:80 ✓ 200 · pods 3/3 ✓ · API ✓ 403).`,
    );
  }, 120_000);
});
