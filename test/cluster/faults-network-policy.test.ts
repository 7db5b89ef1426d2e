/**
 * A NetworkPolicy that denies the failing client, as real objects in the real apiserver:
 * backends `app=web-api` whose ingress policy admits only `role=frontend`, and a client
 * Deployment `app=batch`. kproxy reads them live with its worker token and evaluates the
 * policies itself. Enforcement is NOT simulated: the lab has no CNI and kwok's pods send
 * no packets, so what is tested is the verdict from the policy objects, not a dropped
 * connection.
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
import { admin, asList } from './lab-helpers.js';
import { recordExample } from './record-example.js';

const lab = inject('lab');
const ns = 'fault-netpol';
let tmp: string;
let worker: string;

const client = (name: string, labels: Record<string, string>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: {
    replicas: 1,
    selector: { matchLabels: labels },
    template: {
      metadata: { labels },
      spec: {
        containers: [
          { name: 'client', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['pause'] },
        ],
      },
    },
  },
});

const policy = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'web-api-from-frontend', namespace: ns },
  spec: {
    podSelector: { matchLabels: { app: 'web-api' } },
    policyTypes: ['Ingress'],
    ingress: [
      {
        from: [{ podSelector: { matchLabels: { role: 'frontend' } } }],
        ports: [{ protocol: 'TCP', port: 8080 }],
      },
    ],
  },
};

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kproxy-cluster-netpol-'));
  worker = await workerKubeconfig(lab, path.join(tmp, 'worker.kubeconfig'));
  await admin(
    lab,
    ['apply', '-f', '-'],
    asList([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      ...deploymentAndService({ ns, name: 'web-api', labels: { app: 'web-api' } }),
      client('batch', { app: 'batch' }),
      client('frontend', { app: 'frontend', role: 'frontend' }),
      policy,
    ]),
  );
  await podsWithReady(lab, ns, 'app=web-api', 'True', 2);
  await podsWithReady(lab, ns, 'app in (batch, frontend)', 'True', 2);
});

afterAll(async () => {
  await admin(lab, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('a NetworkPolicy that denies the client (policy objects real, enforcement not simulated)', () => {
  it('--from the denied client: network_policy, naming the policy and the peers it admits', async () => {
    const d = await diagnoseLive(worker, ['--service', `${ns}/web-api`, '--from', `${ns}/batch`]);
    expect(d.rootCause.category).toBe('network_policy');
    expect(d.verdict).toBe('decisive');
    expect(d.rootCause.detail).toContain(`NetworkPolicy ${ns}/web-api-from-frontend denies`);
    expect(d.rootCause.detail).toContain(`${ns}/batch → ${ns}/web-api`);
    expect(d.rootCause.detail).toMatch(/admits only .*role.*frontend/);
    const np = findingOf(d, 'network-policy.ingress');
    expect(np.status).toBe('fail');
    expect(np.evidence.filter((e) => /^denied: batch-\S+ → web-api-\S+$/.test(e))).toHaveLength(2);
    // The Service path itself is fine: endpoints ready, nothing for kproxy to write.
    expect(findingOf(d, 'endpoints.ready').status).toBe('pass');
    expect(d.mitigation.actions).toEqual([]);
    await recordExample(worker, 'lab-networkpolicy-deny-from', [
      '--service',
      `${ns}/web-api`,
      '--from',
      `${ns}/batch`,
    ]);
  });

  it('--from the admitted client: the same policy passes it', async () => {
    const d = await diagnoseLive(worker, ['--service', `${ns}/web-api`, '--from', `${ns}/frontend`]);
    const np = findingOf(d, 'network-policy.ingress');
    expect(np.status).toBe('pass');
    expect(np.summary).toContain(`${ns}/frontend → ${ns}/web-api`);
    expect(np.evidence.join('\n')).toContain(`NetworkPolicy ${ns}/web-api-from-frontend`);
    expect(d.rootCause.category).not.toBe('network_policy');
  });
});
