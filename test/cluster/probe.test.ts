/**
 * The client's-eye probe against the lab's real kube-apiserver: the probe pod is admitted
 * by real Pod Security admission (`restricted`) and real RBAC (deploy/base's worker plus
 * deploy/optional/probe.yaml bound in the probe namespace), created, and deleted. kwok
 * plays the kubelets and execs only in kube-proxy containers, so the exec into the probe
 * fails ("no exec found for container \"probe\"", through the real apiserver): kproxy must
 * say so (`unknown`, naming why) and still delete its pod. What the probe sees inside a pod
 * is tested against the test API server and with the real tools.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { probePodManifest } from '../../src/cluster/live/probe-pod.js';
import {
  deploymentAndService,
  diagnoseLive,
  findingOf,
  podsWithReady,
  workerKubeconfig,
} from './fault-helpers.js';
import { admin, asList, eventually } from './lab-helpers.js';

const lab = inject('lab');
const probeNs = 'probe-restricted';
const appNs = 'probe-app';
let tmp: string;
let worker: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kproxy-cluster-probe-'));
  worker = await workerKubeconfig(lab, path.join(tmp, 'worker.kubeconfig'));
  const optional = parseAllDocuments(
    await readFile(path.resolve(import.meta.dirname, '../../deploy/optional/probe.yaml'), 'utf8'),
  ).map((d) => d.toJS() as { kind: string; metadata: Record<string, unknown> });
  // The probe namespace enforces Pod Security "restricted"; the optional role is bound there.
  const binding = optional.find((d) => d.kind === 'RoleBinding');
  await admin(
    lab,
    ['apply', '-f', '-'],
    asList([
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: probeNs, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
      },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: appNs } },
      ...optional.filter((d) => d.kind !== 'RoleBinding'),
      { ...binding, metadata: { ...binding?.metadata, namespace: probeNs } },
      ...deploymentAndService({ ns: appNs, name: 'web-api', labels: { app: 'web-api' } }),
    ]),
  );
  await podsWithReady(lab, appNs, 'app=web-api', 'True', 2);
});

afterAll(async () => {
  for (const ns of [probeNs, appNs])
    await admin(lab, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("the client's-eye probe against a real apiserver", () => {
  it('the probe pod passes Pod Security "restricted" admission (server-side dry run)', async () => {
    const node = lab.nodeNames[0] as string;
    const pod = probePodManifest({ node, namespace: probeNs }, 'docker.io/nicolaka/netshoot:v0.13');
    const out = await admin(
      lab,
      ['create', '--dry-run=server', '-o', 'name', '-f', '-'],
      JSON.stringify(pod),
    );
    expect(out.trim()).toMatch(/^pod\/kproxy-probe-[a-z0-9]+$/);
  });

  it('as the worker: created under real RBAC and admission, an exec that fails is unknown (named), the pod deleted', async () => {
    const node = lab.nodeNames[0] as string;
    const d = await diagnoseLive(worker, [
      '--service',
      `${appNs}/web-api`,
      '--node',
      node,
      '--probe',
      'debug-pod',
      '--probe-namespace',
      probeNs,
    ]);
    const probe = findingOf(d, 'probe.path');
    expect(probe.status).toBe('unknown');
    const summary = probe.nodes?.[node]?.summary ?? '';
    // Created and Running (kwok), then the exec itself fails: not a refused create.
    expect(summary).toMatch(/^probe did not run: /);
    expect(summary).not.toContain('probe pod not created');
    expect(summary).toContain(`exec kproxy-probe in ${probeNs}/kproxy-probe-`);
    // Never a guess: no root cause comes from the probe.
    expect(d.rootCause.detail).not.toContain("client's-eye probe");
    await eventually('the probe pod gone', async () => {
      const left = await admin(lab, [
        'get',
        'pods',
        '-n',
        probeNs,
        '-l',
        'kproxy.io/role=probe',
        '-o',
        'name',
      ]);
      return left.trim() === '' ? true : undefined;
    });
  });
});
