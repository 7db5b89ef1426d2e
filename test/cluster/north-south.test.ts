/**
 * The north-south path against a real control plane (issue 18 §4): real Ingress and
 * IngressClass objects, the real apiserver's answers for an absent Gateway API (its
 * NotFound handler) and for an Ingress that does not exist, read with kproxy-worker's
 * token under deploy/base's RBAC.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  deploymentAndService,
  diagnoseLive,
  findingOf,
  podsWithReady,
  workerKubeconfig,
} from './fault-helpers.js';
import { admin, asList, kproxyCli } from './lab-helpers.js';

const lab = inject('lab');
const ns = 'north-south';
let tmp: string;
let worker: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kproxy-cluster-ns-'));
  worker = await workerKubeconfig(lab, path.join(tmp, 'worker.kubeconfig'));
  const ingress = (name: string, port: Record<string, unknown>) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: ns },
    spec: {
      ingressClassName: 'nginx',
      rules: [
        {
          host: 'api.example.com',
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port } } }] },
        },
      ],
    },
  });
  await admin(
    lab,
    ['apply', '-f', '-'],
    asList([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'IngressClass',
        metadata: { name: 'nginx' },
        spec: { controller: 'k8s.io/ingress-nginx' },
      },
      ...deploymentAndService({ ns, name: 'web', labels: { app: 'web' } }),
      // The container's port, not the Service's: the classic mistake.
      ingress('web-container-port', { number: 8080 }),
      ingress('web', { name: 'http' }),
    ]),
  );
  await podsWithReady(lab, ns, 'app=web', 'True', 2);
});

afterAll(async () => {
  await admin(lab, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  await admin(lab, ['delete', 'ingressclass', 'nginx']).catch(() => undefined);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('an Ingress in a real cluster, read as the worker', () => {
  it('a backend port the Service does not have is the root cause, quoting the Service ports', async () => {
    const d = await diagnoseLive(worker, ['--ingress', `${ns}/web-container-port`]);
    expect(d.rootCause.category).toBe('ingress');
    expect(findingOf(d, 'ingress.backends').evidence.join('\n')).toContain(
      `port.number 8080 is not a port of Service ${ns}/web (its ports: http 80/TCP)`,
    );
  });

  it('a correct backend with ready endpoints passes; no ingress-nginx runs in the lab, and the report says so', async () => {
    const d = await diagnoseLive(worker, ['--ingress', `${ns}/web`]);
    expect(findingOf(d, 'ingress.backends').status).toBe('pass');
    expect(findingOf(d, 'ingress.controller').summary).toBe(
      'no ingress-nginx pods run: nothing serves this Ingress',
    );
    expect(d.rootCause.category).toBe('ingress');
    for (const f of d.findings)
      expect([f.summary, ...f.evidence].join('\n'), f.check).not.toMatch(/forbidden|RBAC: grant/);
  });

  it('an HTTPRoute where the Gateway API is not installed: the real 404 makes it unknown, "CRD not installed"', async () => {
    const d = await diagnoseLive(worker, ['--httproute', `${ns}/web`]);
    const f = findingOf(d, 'ingress.backends');
    expect(f.status).toBe('unknown');
    expect(f.summary).toContain('CRD not installed');
  });

  it('an Ingress that does not exist is one line naming it, exit 2', async () => {
    const r = await kproxyCli([
      'diagnose',
      '--kubeconfig',
      worker,
      '--context',
      'lab',
      '--ingress',
      `${ns}/nope`,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`kproxy: ingress ${ns}/nope not found\n`);
  });
});
