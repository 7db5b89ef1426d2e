/**
 * Remediation executors against the test API server with the real client: each plans
 * from the cluster's current state and sends exactly the expected writes, and nothing else.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { executePlan, planAction } from '../src/approvals/executors.js';
import { bundlesDir } from './helpers/bundles.js';
import { type Served, serve } from './helpers/live.js';

const n2 = 'ip-10-0-2-45.ec2.internal';
const fixedNow = () => new Date('2026-11-22T10:05:00.123Z');
let served: Served | undefined;
afterEach(async () => {
  await served?.stop();
  served = undefined;
});

async function http(bundle = 'stale-endpoints') {
  served = await serve(path.join(bundlesDir, bundle));
  return served.source().http;
}

describe('executors', () => {
  it('restart-kube-proxy: one strategic-merge PATCH of the DaemonSet template annotation', async () => {
    const h = await http();
    const plan = await planAction(h, { action: 'restart-kube-proxy' }, fixedNow);
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.value.writes.map((w) => w.describe)).toEqual([
      'PATCH DaemonSet kube-system/kube-proxy spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]=2026-11-22T10:05:00Z',
    ]);
    expect(served?.server.mutations).toEqual([]);
    expect(await executePlan(h, plan.value)).toEqual({ ok: true, done: [plan.value.writes[0]?.describe] });
    expect(served?.server.mutations).toEqual([
      {
        method: 'PATCH',
        path: '/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy',
        contentType: 'application/strategic-merge-patch+json',
        body: {
          spec: {
            template: {
              metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-22T10:05:00Z' } },
            },
          },
        },
      },
    ]);
  });

  it('delete-kube-proxy-pod: finds the pod on the node now, then one DELETE', async () => {
    const h = await http();
    const plan = await planAction(h, { action: 'delete-kube-proxy-pod', node: n2 });
    if (!plan.ok) throw new Error(plan.reason);
    await executePlan(h, plan.value);
    expect(served?.server.mutations).toEqual([
      {
        method: 'DELETE',
        path: '/api/v1/namespaces/kube-system/pods/kube-proxy-k2v9d',
        contentType: undefined,
        body: undefined,
      },
    ]);
  });

  it('cordon-node: one merge PATCH of spec.unschedulable', async () => {
    const h = await http();
    const plan = await planAction(h, { action: 'cordon-node', node: n2 });
    if (!plan.ok) throw new Error(plan.reason);
    await executePlan(h, plan.value);
    expect(served?.server.mutations).toEqual([
      {
        method: 'PATCH',
        path: `/api/v1/nodes/${n2}`,
        contentType: 'application/merge-patch+json',
        body: { spec: { unschedulable: true } },
      },
    ]);
  });

  it('drain-node: cordon, then one eviction per pod; DaemonSet pods stay', async () => {
    const h = await http();
    const plan = await planAction(h, { action: 'drain-node', node: n2 });
    if (!plan.ok) throw new Error(plan.reason);
    const result = await executePlan(h, plan.value);
    expect(result.ok).toBe(true);
    expect(served?.server.mutations.map((m) => `${m.method} ${m.path}`)).toEqual([
      `PATCH /api/v1/nodes/${n2}`,
      'POST /api/v1/namespaces/app/pods/web-api-7c9d8b6f5d-8mzt2/eviction',
      'POST /api/v1/namespaces/kube-system/pods/coredns-5b8cc885bc-9tnbw/eviction',
    ]);
    expect(served?.server.mutations[1]?.body).toEqual({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'web-api-7c9d8b6f5d-8mzt2', namespace: 'app' },
    });
  });

  it('drain-node: an eviction a PodDisruptionBudget keeps refusing is retried, then reported; the rest go on', async () => {
    served = await serve(path.join(bundlesDir, 'stale-endpoints'), {
      faults: [{ match: /^POST \/api\/v1\/namespaces\/app\/pods\/[^/]+\/eviction$/, respond: 429 }],
    });
    const h = served.source().http;
    const plan = await planAction(h, { action: 'drain-node', node: n2 });
    if (!plan.ok) throw new Error(plan.reason);
    const result = await executePlan(h, plan.value, undefined, {
      evictionRetries: 2,
      evictionRetryDelayMs: 0,
    });
    expect(result).toEqual({
      ok: false,
      done: [`PATCH Node ${n2} spec.unschedulable=true`, 'EVICT Pod kube-system/coredns-5b8cc885bc-9tnbw'],
      error: 'EVICT Pod app/web-api-7c9d8b6f5d-8mzt2: still refused by a PodDisruptionBudget after 3 tries',
    });
    expect(served.server.mutations.map((m) => m.path)).toEqual([
      `/api/v1/nodes/${n2}`,
      '/api/v1/namespaces/kube-system/pods/coredns-5b8cc885bc-9tnbw/eviction',
    ]);
  });

  it('re-validation refuses a target that changed, and writes nothing', async () => {
    const h = await http();
    for (const target of [
      { action: 'delete-kube-proxy-pod' as const, node: 'ip-10-9-9-9.ec2.internal' },
      { action: 'cordon-node' as const, node: 'ip-10-9-9-9.ec2.internal' },
      { action: 'drain-node' as const, node: 'ip-10-9-9-9.ec2.internal' },
      { action: 'switch-kube-proxy-mode-ipvs' as const },
    ]) {
      const plan = await planAction(h, target);
      expect(plan.ok).toBe(false);
    }
    const gone = await planAction(h, { action: 'cordon-node', node: 'ip-10-9-9-9.ec2.internal' });
    expect(gone.ok ? '' : gone.reason).toBe('node ip-10-9-9-9.ec2.internal no longer exists');
    expect(served?.server.mutations).toEqual([]);
  });

  it('a forbidden write is reported with the permission it needs', async () => {
    served = await serve(path.join(bundlesDir, 'stale-endpoints'), {
      faults: [{ match: /^PATCH \/api\/v1\/nodes\//, respond: 403 }],
    });
    const h = served.source().http;
    const plan = await planAction(h, { action: 'cordon-node', node: n2 });
    if (!plan.ok) throw new Error(plan.reason);
    const result = await executePlan(h, plan.value);
    expect(result.ok).toBe(false);
    expect(result.error).toBe(
      `PATCH Node ${n2} spec.unschedulable=true: forbidden: patch nodes (RBAC: grant "patch" on nodes)`,
    );
  });
});
