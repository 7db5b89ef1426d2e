/**
 * `kproxy collect` against the lab, with kproxy's worker token under deploy/base's RBAC:
 * the bundle it writes, diagnosed offline (`diagnose --bundle`), gives the live diagnosis
 * of the same cluster (root cause, verdict, every finding's status, summary and evidence:
 * the manifest's notCollected reasons included). One healthy Service (root cause none:
 * kube-proxy's pods, logs, healthz, metrics and the rules exec'd from its pods travel in
 * the bundle) and one client denied by a NetworkPolicy (`--from`: the client's pods and
 * policies travel in the bundle too).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type Diagnosis,
  deploymentAndService,
  diagnoseLive,
  podsWithReady,
  workerKubeconfig,
} from './fault-helpers.js';
import { admin, asList, kproxyCli } from './lab-helpers.js';
import { recordExample } from './record-example.js';

const lab = inject('lab');
const ns = 'collect-bundle';
let tmp: string;
let worker: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kproxy-cluster-collect-'));
  worker = await workerKubeconfig(lab, path.join(tmp, 'worker.kubeconfig'));
  await admin(
    lab,
    ['apply', '-f', '-'],
    asList([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      ...deploymentAndService({ ns, name: 'web-api', labels: { app: 'web-api' } }),
      ...deploymentAndService({ ns, name: 'batch', labels: { app: 'batch' }, replicas: 1 }),
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'web-api-from-frontend', namespace: ns },
        spec: {
          podSelector: { matchLabels: { app: 'web-api' } },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }],
        },
      },
    ]),
  );
  await podsWithReady(lab, ns, 'app in (web-api, batch)', 'True', 3);
});

afterAll(async () => {
  await admin(lab, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** kube-proxy's sync clock in a finding, read twice at different moments, made comparable. */
const syncClocksOut = (line: string) =>
  line
    .replace(
      /last successful sync during the check \(\d+s after it began\)/g,
      'last successful sync Ns before the check',
    )
    .replace(/\d+(\.\d+)?/g, 'N');

/** What must match between the live and the offline diagnosis. */
const essence = (d: Diagnosis) => ({
  rootCause: d.rootCause,
  verdict: d.verdict,
  findings: d.findings.map((f) => `${f.check}=${f.status}`),
  // And what each finding says, but the timeline: events keep arriving between the two
  // reads; and kube-proxy's sync metrics are clocks and counters that move between them
  // ("last successful sync 12s before the check", the mean of a histogram): their numbers,
  // and whether a sync landed before or during the read (kube-proxy syncs when it likes).
  said: d.findings
    .filter((f) => f.check !== 'timeline.events')
    .map((f) => `${f.check}: ${f.summary} | ${f.evidence.join(' | ')} | ${JSON.stringify(f.nodes ?? {})}`)
    .map((line) => (line.startsWith('kube-proxy.sync:') ? syncClocksOut(line) : line))
    // Ages relative to each read's own moment (node churn's "joined 5 min before the
    // observation" is 6 min a minute later).
    .map((line) => line.replace(/\d+ (min|h) before the observation/g, 'N $1 before the observation')),
  missing: d.missing,
  actions: d.mitigation.actions,
});

async function collect(target: string[], out: string): Promise<string> {
  const r = await kproxyCli([
    'collect',
    '--kubeconfig',
    worker,
    '--context',
    'lab',
    '--node-captures',
    'exec',
    '--out',
    out,
    ...target,
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^wrote ${out.replaceAll('.', '\\.')}: \\d+ files`));
  // What the bundle lacks it names; nothing may be missing for lack of permission.
  expect(r.stdout).not.toMatch(/forbidden|unauthorized|RBAC/i);
  return r.stdout;
}

async function diagnoseBundle(bundle: string): Promise<Diagnosis> {
  const r = await kproxyCli(['diagnose', '--bundle', bundle, '--format', 'json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Diagnosis;
}

describe('kproxy collect against the lab (worker token) → the offline diagnosis equals the live one', () => {
  it('a healthy Service, bundle as a directory', async () => {
    const target = ['--service', `${ns}/web-api`];
    const live = await diagnoseLive(worker, [...target, '--node-captures', 'exec']);
    const out = path.join(tmp, 'healthy');
    const stdout = await collect(target, out);
    const offline = await diagnoseBundle(out);
    expect(essence(offline)).toEqual(essence(live));
    expect(live.rootCause.category).toBe('none');
    expect(live.verdict).toBe('decisive');
    expect(stdout).not.toContain('not collected');
    await recordExample(worker, 'lab-healthy', target);
  });

  it('a client denied by a NetworkPolicy (--from), bundle as a .tar.gz', async () => {
    const target = ['--service', `${ns}/web-api`, '--from', `${ns}/batch`];
    const live = await diagnoseLive(worker, [...target, '--node-captures', 'exec']);
    const out = path.join(tmp, 'denied.tar.gz');
    const stdout = await collect(target, out);
    const offline = await diagnoseBundle(out);
    expect(essence(offline)).toEqual(essence(live));
    expect(live.rootCause.category).toBe('network_policy');
    // The client's node is in scope too: its kube-proxy healthz and metrics come through
    // the apiserver's node proxy (the node's address is routable), its rules by exec.
    expect(stdout).not.toContain('not collected');
  });
});
