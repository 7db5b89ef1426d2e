/**
 * Real faults on the endpoints side, produced by breaking the lab (real apiserver, real
 * EndpointSlice controller, kwok playing the kubelets), diagnosed live by kproxy with its
 * worker token under deploy/base's RBAC: each case in its own namespace.
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
  sliceEndpoints,
  workerKubeconfig,
} from './fault-helpers.js';
import { admin, asList, eventually } from './lab-helpers.js';
import { recordExample } from './record-example.js';

const lab = inject('lab');
let tmp: string;
let worker: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kproxy-cluster-faults-'));
  worker = await workerKubeconfig(lab, path.join(tmp, 'worker.kubeconfig'));
});

afterAll(async () => {
  for (const ns of ['fault-selector', 'fault-readiness'])
    await admin(lab, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('a Service selector typo (selects app=web-api-v2, the pods are app=web-api)', () => {
  const ns = 'fault-selector';

  beforeAll(async () => {
    const objects = deploymentAndService({
      ns,
      name: 'web-api',
      labels: { app: 'web-api' },
      selector: { app: 'web-api-v2' },
    });
    await admin(
      lab,
      ['apply', '-f', '-'],
      asList([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, ...objects]),
    );
    // The pods are Running and Ready; the Service just selects none of them.
    await podsWithReady(lab, ns, 'app=web-api', 'True', 2);
    // The real controller's answer: the Service's EndpointSlice exists and is empty.
    await eventually('the empty EndpointSlice of web-api', async () => {
      const n = await admin(lab, [
        'get',
        'endpointslices',
        '-n',
        ns,
        '-l',
        'kubernetes.io/service-name=web-api',
        '-o',
        'name',
      ]);
      return n.trim() ? true : undefined;
    });
    expect(await sliceEndpoints(lab, ns, 'web-api')).toEqual([]);
  });

  it('no_endpoints, naming the selector and the pods it misses, with nothing to write', async () => {
    const d = await diagnoseLive(worker, ['--service', `${ns}/web-api`]);
    expect(d.rootCause.category).toBe('no_endpoints');
    expect(d.verdict).toBe('decisive');
    expect(d.rootCause.detail).toMatch(/selector \{app=web-api-v2\} matches no pod/);
    const ep = findingOf(d, 'endpoints.ready');
    expect(ep.status).toBe('fail');
    expect(ep.evidence).toContain(`EndpointSlices of ${ns}/web-api: no endpoints`);
    expect(ep.evidence).toContain(`selector {app=web-api-v2} matches 0 pods in namespace ${ns}`);
    // The near miss: real pods carrying the label the selector was meant to have.
    const near = ep.evidence.filter((e) =>
      / has app=web-api where the selector wants app=web-api-v2$/.test(e),
    );
    expect(near).toHaveLength(2);
    // The runbook stops at "no ready endpoints": not a kube-proxy problem, no action.
    expect(findingOf(d, 'kube-proxy.pods').status).toBe('skip');
    expect(d.mitigation.actions).toEqual([]);
    await recordExample(worker, 'lab-no-endpoints-selector', ['--service', `${ns}/web-api`]);
  });
});

describe('every backend failing readiness (kwok Stage lab/stages/pod-readiness-failing.yaml)', () => {
  const ns = 'fault-readiness';

  beforeAll(async () => {
    // The label (not in the Deployment's selector) is what the lab's kwok Stage acts on:
    // once kwok has made a pod Running and Ready, it writes the kubelet's status for a
    // failing readiness probe, and the kubelet's Unhealthy event.
    const objects = deploymentAndService({
      ns,
      name: 'web-api',
      labels: { app: 'web-api' },
      podLabels: { 'lab.kproxy.dev/readiness': 'failing' },
    });
    await admin(
      lab,
      ['apply', '-f', '-'],
      asList([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, ...objects]),
    );
    await podsWithReady(lab, ns, 'app=web-api', 'False', 2);
    // The real EndpointSlice controller publishes them, not ready.
    await eventually('2 not-ready endpoints of web-api', async () => {
      const eps = await sliceEndpoints(lab, ns, 'web-api');
      return eps.length === 2 && eps.every((e) => e.endsWith(' false')) ? eps : undefined;
    });
  });

  it('no_endpoints with the readiness reason: pods NotReady (ContainersNotReady), probes failing', async () => {
    const d = await diagnoseLive(worker, ['--service', `${ns}/web-api`]);
    expect(d.rootCause.category).toBe('no_endpoints');
    expect(d.verdict).toBe('decisive');
    expect(d.rootCause.detail).toMatch(
      /2 pod\(s\) selected, none Ready \(NotReady\); readiness probes failing/,
    );
    const ep = findingOf(d, 'endpoints.ready');
    expect(ep.evidence.filter((e) => / ready=false pod=web-api-/.test(e))).toHaveLength(2);
    expect(
      ep.evidence.filter((e) =>
        /: Ready=False \(ContainersNotReady\): containers with unready status: \[web\]$/.test(e),
      ),
    ).toHaveLength(2);
    expect(
      ep.evidence.some((e) =>
        /Unhealthy \(x\d+\): Readiness probe failed: HTTP probe failed with statuscode: 503/.test(e),
      ),
    ).toBe(true);
    expect(d.mitigation.actions).toEqual([]);
  });
});
