/**
 * drain-node as kubectl drain does it, and rollout waits, against a test API server whose
 * evictions behave like the real one's (issue 13): a 404 on eviction means the pod is gone,
 * evicted pods terminate before they disappear, emptyDir data is lost, DaemonSet and mirror
 * pods are skipped, and a DaemonSet rollout can stall on one node.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { executePlan, planAction } from '../src/approvals/executors.js';
import { rolloutBoundMs } from '../src/approvals/waits.js';
import type { BundleApiServerOptions } from '../src/testserver/bundle-api-server.js';
import { bundlesDir, copyExample } from './helpers/bundles.js';
import { type Served, serve } from './helpers/live.js';
import { deployGrants } from './helpers/rbac.js';

const n2 = 'ip-10-0-2-45.ec2.internal';
const webApiPod = 'web-api-7c9d8b6f5d-8mzt2';
const running: Served[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
  for (const c of cleanups.splice(0)) await c();
});

/** The execute worker's action roles from deploy/base: a verb drain or the rollout wait lacks fails here. */
const actionRoles = deployGrants('kproxy-actions', 'kproxy-actions-nodes');

async function served(dir: string, options: BundleApiServerOptions = {}) {
  const s = await serve(dir, { rbac: actionRoles, ...options });
  running.push(s);
  return { s, http: s.source().http };
}

type PodDoc = {
  items: { metadata: Record<string, unknown> & { name: string }; spec: Record<string, unknown> }[];
};

/** A copy of stale-endpoints with `edit` applied to the pods of `namespace`. */
async function editedPods(namespace: string, edit: (doc: PodDoc) => void): Promise<string> {
  const copy = await copyExample('stale-endpoints');
  cleanups.push(copy.cleanup);
  const file = path.join(copy.dir, 'namespaces', namespace, 'pods.json');
  const doc = JSON.parse(await readFile(file, 'utf8')) as PodDoc;
  edit(doc);
  await writeFile(file, JSON.stringify(doc));
  return copy.dir;
}

const drain = { action: 'drain-node' as const, node: n2 };
const fast = { evictionRetryDelayMs: 0, pollIntervalMs: 20 };

describe('drain-node like kubectl drain', () => {
  it('waits until the evicted pods are gone before it says done', async () => {
    const { s, http } = await served(path.join(bundlesDir, 'stale-endpoints'), { podTerminationMs: 300 });
    const plan = await planAction({ http }, drain);
    if (!plan.ok) throw new Error(plan.reason);
    const result = await executePlan({ http }, plan.value, undefined, fast);
    expect(result.ok).toBe(true);
    expect(result.done.at(-1)).toMatch(/^2 evicted pod\(s\) gone \(\d+ s\)$/);
    expect(s.server.count(new RegExp(`^GET /api/v1/namespaces/app/pods/${webApiPod}$`))).toBeGreaterThan(1);
  });

  it('a pod that never terminates is reported after the bound, not "done"', async () => {
    const { http } = await served(path.join(bundlesDir, 'stale-endpoints'), { podTerminationMs: 'never' });
    const plan = await planAction({ http }, drain);
    if (!plan.ok) throw new Error(plan.reason);
    const result = await executePlan({ http }, plan.value, undefined, { ...fast, settleTimeoutMs: 300 });
    expect(result.ok).toBe(false);
    expect(result.error).toContain(`evicted pods still terminating after the wait bound: app/${webApiPod}`);
  });

  it('a 404 on eviction means the pod is already gone: done, the rest go on', async () => {
    const { s, http } = await served(path.join(bundlesDir, 'stale-endpoints'));
    const plan = await planAction({ http }, drain);
    if (!plan.ok) throw new Error(plan.reason);
    // Someone else evicted it between the plan and the execution.
    const evict = plan.value.writes.find((w) => w.describe === `EVICT Pod app/${webApiPod}`);
    if (!evict || evict.kind) throw new Error('no eviction planned');
    expect(
      (await http.send('POST', evict.path, evict.body, { verb: 'create', resource: 'pods/eviction' })).ok,
    ).toBe(true);
    const result = await executePlan({ http }, plan.value, undefined, fast);
    expect(result.ok).toBe(true);
    expect(result.done).toContain(`EVICT Pod app/${webApiPod}: already gone`);
    expect(
      s.server.requests.filter((r) => r.path.endsWith(`${webApiPod}/eviction`)).map((r) => r.status),
    ).toEqual([201, 404]);
  });

  it('emptyDir pods are listed and refused unless data loss is accepted', async () => {
    const dir = await editedPods('app', (doc) => {
      const pod = doc.items.find((p) => p.metadata.name === webApiPod);
      if (pod)
        pod.spec.volumes = [...((pod.spec.volumes as unknown[]) ?? []), { name: 'cache', emptyDir: {} }];
    });
    const { s, http } = await served(dir);
    const refusedPlan = await planAction({ http }, drain);
    expect(refusedPlan.ok ? '' : refusedPlan.reason).toBe(
      `node ${n2} runs pods with emptyDir data that eviction deletes (app/${webApiPod}): not drained unless the approver accepts losing that data`,
    );
    const accepted = await planAction({ http }, { ...drain, acceptEmptyDirDataLoss: true });
    if (!accepted.ok) throw new Error(accepted.reason);
    expect(accepted.value.writes.map((w) => w.describe)).toContain(
      `EVICT Pod app/${webApiPod} (its emptyDir data is lost)`,
    );
    expect(s.server.mutations).toEqual([]);
  });

  it('mirror pods are skipped; a pod whose DaemonSet is gone refuses the drain', async () => {
    const mirror = await editedPods('app', (doc) => {
      const pod = doc.items.find((p) => p.metadata.name === webApiPod);
      if (pod) {
        pod.metadata.annotations = { 'kubernetes.io/config.mirror': 'abc' };
        pod.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: n2, controller: true }];
      }
    });
    const m = await served(mirror);
    const plan = await planAction({ http: m.http }, drain);
    if (!plan.ok) throw new Error(plan.reason);
    expect(plan.value.writes.map((w) => w.describe).join('\n')).not.toContain(webApiPod);

    const orphan = await editedPods('kube-system', (doc) => {
      const pod = doc.items.find((p) => p.metadata.name === 'aws-node-n8w2c');
      if (pod)
        pod.metadata.ownerReferences = [
          { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ghost', controller: true },
        ];
    });
    const o = await served(orphan);
    const refusedPlan = await planAction({ http: o.http }, drain);
    expect(refusedPlan.ok ? '' : refusedPlan.reason).toContain(
      'runs pods whose DaemonSet no longer exists (kube-system/aws-node-n8w2c)',
    );
  });
});

describe('rollout waits', () => {
  it('scale with the node count, within limits', () => {
    expect(rolloutBoundMs(3)).toBe(300_000);
    expect(rolloutBoundMs(40)).toBe(2_400_000);
    expect(rolloutBoundMs(5000)).toBe(7_200_000);
  });

  it('a rollout stuck on the affected node says so', async () => {
    const { http } = await served(path.join(bundlesDir, 'kube-proxy-crashloop'));
    const plan = await planAction({ http }, { action: 'restart-kube-proxy', node: n2 });
    if (!plan.ok) throw new Error(plan.reason);
    const result = await executePlan({ http }, plan.value, undefined, { ...fast, stallTimeoutMs: 300 });
    expect(result.ok).toBe(false);
    expect(result.error).toContain('rollout made no progress');
    expect(result.error).toContain('3/3 kube-proxy pods updated, 2/3 available');
    expect(result.error).toContain(`blocked on the affected node ${n2}: kube-proxy-k2v9d CrashLoopBackOff`);
  });
});
