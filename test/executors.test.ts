/**
 * Remediation executors against the test API server with the real client: each plans
 * from the cluster's current state and sends exactly the expected writes, and nothing else.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { executePlan, planAction } from '../src/approvals/executors.js';
import { EksAccess } from '../src/cluster/eks/eks-access.js';
import { bundlesDir, copyExample } from './helpers/bundles.js';
import { FakeEks } from './helpers/fake-eks.js';
import { type Served, serve } from './helpers/live.js';

const n2 = 'ip-10-0-2-45.ec2.internal';
const fixedNow = () => new Date('2026-11-22T10:05:00.123Z');
let served: Served | undefined;
let fakeEks: FakeEks | undefined;
afterEach(async () => {
  await served?.stop();
  await fakeEks?.stop();
  served = undefined;
  fakeEks = undefined;
});

/** The served bundle as an EKS cluster: the test API server plus the fake EKS API. */
async function eksContext(bundle: string) {
  served = await serve(path.join(bundlesDir, bundle));
  fakeEks = new FakeEks(path.join(bundlesDir, bundle), served.server.url);
  const endpoint = await fakeEks.start();
  const eks = new EksAccess(
    { name: 'prod-east', region: 'us-east-1', endpoint },
    {
      credentials: async () => ({
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      }),
    },
  );
  return { http: served.source().http, eks, fake: fakeEks };
}

async function http(bundle = 'stale-endpoints') {
  served = await serve(path.join(bundlesDir, bundle));
  return served.source().http;
}

describe('executors', () => {
  it('restart-kube-proxy: one strategic-merge PATCH of the DaemonSet template annotation', async () => {
    const h = await http();
    const plan = await planAction({ http: h }, { action: 'restart-kube-proxy' }, fixedNow);
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.value.writes.map((w) => w.describe)).toEqual([
      'PATCH DaemonSet kube-system/kube-proxy spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]=2026-11-22T10:05:00Z',
    ]);
    expect(served?.server.mutations).toEqual([]);
    expect(await executePlan({ http: h }, plan.value)).toEqual({
      ok: true,
      done: [
        plan.value.writes[0]?.describe,
        // The served DaemonSet reports every pod updated and available: the bounded wait ends at once.
        'rollout complete: 3/3 kube-proxy pods updated, 3/3 available (0 s)',
      ],
    });
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
    const plan = await planAction({ http: h }, { action: 'delete-kube-proxy-pod', node: n2 });
    if (!plan.ok) throw new Error(plan.reason);
    await executePlan({ http: h }, plan.value);
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
    const plan = await planAction({ http: h }, { action: 'cordon-node', node: n2 });
    if (!plan.ok) throw new Error(plan.reason);
    await executePlan({ http: h }, plan.value);
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
    const plan = await planAction({ http: h }, { action: 'drain-node', node: n2 });
    if (!plan.ok) throw new Error(plan.reason);
    const result = await executePlan({ http: h }, plan.value);
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

  it('drain-node: a 429 that names no disruption budget is not blamed on one', async () => {
    served = await serve(path.join(bundlesDir, 'stale-endpoints'), {
      faults: [
        {
          match: /^POST \/api\/v1\/namespaces\/app\/pods\/[^/]+\/eviction$/,
          respond: 429,
          reason: 'TooManyRequests',
          message: 'Too many requests, please try again later.',
        },
      ],
    });
    const h = served.source().http;
    const plan = await planAction({ http: h }, { action: 'drain-node', node: n2 });
    if (!plan.ok) throw new Error(plan.reason);
    const result = await executePlan({ http: h }, plan.value, undefined, {
      evictionRetries: 1,
      evictionRetryDelayMs: 0,
    });
    expect(result.error).toBe(
      'EVICT Pod app/web-api-7c9d8b6f5d-8mzt2: still refused after 2 tries: API server answered 429 to create pods/eviction in app: Too many requests, please try again later.',
    );
  });

  it('drain-node: an eviction a PodDisruptionBudget refuses once is retried and admitted, and the report says so', async () => {
    served = await serve(path.join(bundlesDir, 'stale-endpoints'), {
      faults: [
        {
          match: /^POST \/api\/v1\/namespaces\/app\/pods\/[^/]+\/eviction$/,
          respond: 429,
          pdb: { name: 'web-api', desiredHealthy: 1, currentHealthy: 1 },
          times: 1,
        },
      ],
    });
    const h = served.source().http;
    const plan = await planAction({ http: h }, { action: 'drain-node', node: n2 });
    if (!plan.ok) throw new Error(plan.reason);
    const result = await executePlan({ http: h }, plan.value, undefined, {
      evictionRetryDelayMs: 0,
      pollIntervalMs: 20,
    });
    expect(result.ok).toBe(true);
    expect(result.done).toContain(
      'EVICT Pod app/web-api-7c9d8b6f5d-8mzt2 (admitted on a retry; first refused: The disruption budget web-api needs 1 healthy pods and has 1 currently)',
    );
    expect(result.done).toContain('EVICT Pod kube-system/coredns-5b8cc885bc-9tnbw');
  });

  it('drain-node: an eviction a PodDisruptionBudget keeps refusing is retried, then reported; the rest go on', async () => {
    served = await serve(path.join(bundlesDir, 'stale-endpoints'), {
      faults: [{ match: /^POST \/api\/v1\/namespaces\/app\/pods\/[^/]+\/eviction$/, respond: 429 }],
    });
    const h = served.source().http;
    const plan = await planAction({ http: h }, { action: 'drain-node', node: n2 });
    if (!plan.ok) throw new Error(plan.reason);
    const result = await executePlan({ http: h }, plan.value, undefined, {
      evictionRetries: 2,
      evictionRetryDelayMs: 0,
    });
    expect(result).toEqual({
      ok: false,
      done: [`PATCH Node ${n2} spec.unschedulable=true`, 'EVICT Pod kube-system/coredns-5b8cc885bc-9tnbw'],
      // The budget named as the apiserver names it (its Status' DisruptionBudget cause).
      error:
        'EVICT Pod app/web-api-7c9d8b6f5d-8mzt2: still refused by a PodDisruptionBudget after 3 tries: The disruption budget web-api needs 2 healthy pods and has 2 currently',
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
      {
        action: 'switch-kube-proxy-mode-ipvs' as const,
        blockedBy: 'IPVS kernel modules are missing (ip-10-0-2-45.ec2.internal: no ip_vs)',
      },
    ]) {
      const plan = await planAction({ http: h }, target);
      expect(plan.ok).toBe(false);
    }
    const gone = await planAction({ http: h }, { action: 'cordon-node', node: 'ip-10-9-9-9.ec2.internal' });
    expect(gone.ok ? '' : gone.reason).toBe('node ip-10-9-9-9.ec2.internal no longer exists');
    expect(served?.server.mutations).toEqual([]);
  });

  it('a forbidden write is reported with the permission it needs', async () => {
    served = await serve(path.join(bundlesDir, 'stale-endpoints'), {
      faults: [{ match: /^PATCH \/api\/v1\/nodes\//, respond: 403 }],
    });
    const h = served.source().http;
    const plan = await planAction({ http: h }, { action: 'cordon-node', node: n2 });
    if (!plan.ok) throw new Error(plan.reason);
    const result = await executePlan({ http: h }, plan.value);
    expect(result.ok).toBe(false);
    expect(result.error).toBe(
      `PATCH Node ${n2} spec.unschedulable=true: forbidden: patch nodes (RBAC: grant "patch" on nodes)`,
    );
  });

  it('switch-kube-proxy-mode-ipvs (ConfigMap): one merge PATCH of the KubeProxyConfiguration, then a rollout restart', async () => {
    const h = await http('iptables-xtables-lock');
    const plan = await planAction({ http: h }, { action: 'switch-kube-proxy-mode-ipvs' }, fixedNow);
    if (!plan.ok) throw new Error(plan.reason);
    expect(plan.value.writes.map((w) => w.describe)).toEqual([
      'PATCH ConfigMap kube-system/kube-proxy-config data["config"]: mode iptables → ipvs, ipvs.scheduler "" → rr',
      'PATCH DaemonSet kube-system/kube-proxy spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]=2026-11-22T10:05:00Z',
    ]);
    const result = await executePlan({ http: h }, plan.value);
    expect(result.ok).toBe(true);
    const [configPatch, restart, ...rest] = served?.server.mutations ?? [];
    expect(rest).toEqual([]);
    expect(configPatch?.path).toBe('/api/v1/namespaces/kube-system/configmaps/kube-proxy-config');
    expect(configPatch?.contentType).toBe('application/merge-patch+json');
    const config = (configPatch?.body as { data?: { config?: string } } | undefined)?.data?.config;
    expect(config).toMatch(/^mode: "?ipvs"?$/m);
    expect(config).toMatch(/^ {2}scheduler: "?rr"?$/m);
    // Everything else in the configuration is kept as it was.
    expect(config).toMatch(/^ {2}maxPerCore: 32768$/m);
    expect(config).toContain('kind: KubeProxyConfiguration');
    expect(restart?.path).toBe('/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy');
  });

  it('switch-kube-proxy-mode-ipvs changes only the named lines of a configuration written without a final newline (kubeadm)', async () => {
    // kubeadm writes config.conf as a `|-` block (no final newline); the lab showed the
    // edit adding one, a change the dry run did not name.
    const copy = await copyExample('iptables-xtables-lock');
    try {
      const file = path.join(copy.dir, 'namespaces/kube-system/configmaps.json');
      const doc = JSON.parse(await readFile(file, 'utf8')) as {
        items: { metadata: { name: string }; data: Record<string, string> }[];
      };
      const cm = doc.items.find((i) => i.metadata.name === 'kube-proxy-config');
      if (!cm?.data.config) throw new Error('no kube-proxy-config in the example');
      const original = cm.data.config.replace(/\n+$/, '');
      cm.data.config = original;
      await writeFile(file, JSON.stringify(doc));
      served = await serve(copy.dir);
      const plan = await planAction(
        { http: served.source().http },
        { action: 'switch-kube-proxy-mode-ipvs' },
      );
      if (!plan.ok) throw new Error(plan.reason);
      const write = plan.value.writes[0];
      if (!write || write.kind) throw new Error('no ConfigMap patch planned');
      const edited = (write.body as { data: { config: string } }).data.config;
      const before = original.split('\n');
      const after = edited.split('\n');
      expect(after).toHaveLength(before.length);
      expect(after.filter((line, i) => line !== before[i])).toEqual(['  scheduler: "rr"', 'mode: "ipvs"']);
    } finally {
      await copy.cleanup();
    }
  });

  it('switch-kube-proxy-mode-ipvs is refused when kube-proxy already runs IPVS, or when the diagnosis found modules missing', async () => {
    const h = await http('healthy-ipvs');
    const already = await planAction({ http: h }, { action: 'switch-kube-proxy-mode-ipvs' });
    expect(already.ok ? '' : already.reason).toMatch(/already configured for IPVS/);
    const blocked = await planAction(
      { http: h },
      { action: 'switch-kube-proxy-mode-ipvs', blockedBy: 'IPVS kernel modules are missing' },
    );
    expect(blocked.ok ? '' : blocked.reason).toBe('IPVS kernel modules are missing');
    expect(served?.server.mutations).toEqual([]);
  });

  it('switch-kube-proxy-mode-ipvs (EKS add-on): UpdateAddon with the mode in its configuration values, then a restart', async () => {
    const ctx = await eksContext('iptables-xtables-lock');
    const plan = await planAction(ctx, { action: 'switch-kube-proxy-mode-ipvs' }, fixedNow);
    if (!plan.ok) throw new Error(plan.reason);
    const result = await executePlan(ctx, plan.value, undefined, { idempotencyKey: 'approval-1' });
    expect(result.ok).toBe(true);
    expect(ctx.fake.addonUpdates).toEqual([
      {
        path: '/clusters/prod-east/addons/kube-proxy/update',
        body: {
          addonVersion: expect.stringMatching(/^v1\.\d+/),
          configurationValues: '{"mode":"ipvs","ipvs":{"scheduler":"rr"}}',
          resolveConflicts: 'OVERWRITE',
          clientRequestToken: 'approval-1',
        },
      },
    ]);
    // The ConfigMap is EKS's to write; kproxy only restarts kube-proxy after the update succeeded.
    expect(served?.server.mutations.map((m) => `${m.method} ${m.path}`)).toEqual([
      'PATCH /apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy',
    ]);
  });

  it('update-kube-proxy-addon: one UpdateAddon to the default version for the control plane, nothing else', async () => {
    const ctx = await eksContext('version-skew');
    const plan = await planAction(ctx, { action: 'update-kube-proxy-addon' });
    if (!plan.ok) throw new Error(plan.reason);
    expect(plan.value.writes.map((w) => w.describe)).toEqual([
      'EKS UpdateAddon prod-east/kube-proxy addonVersion v1.26.15-eksbuild.2 → v1.30.6-eksbuild.3 (resolveConflicts PRESERVE)',
    ]);
    const result = await executePlan(ctx, plan.value, undefined, { idempotencyKey: 'approval-2' });
    expect(result).toEqual({
      ok: true,
      done: [
        'EKS UpdateAddon prod-east/kube-proxy addonVersion v1.26.15-eksbuild.2 → v1.30.6-eksbuild.3 (resolveConflicts PRESERVE): EKS update upd-1 Successful',
        expect.stringMatching(/^rollout complete: /),
      ],
    });
    expect(ctx.fake.addonUpdates.map((u) => u.body)).toEqual([
      { addonVersion: 'v1.30.6-eksbuild.3', resolveConflicts: 'PRESERVE', clientRequestToken: 'approval-2' },
    ]);
    expect(served?.server.mutations).toEqual([]);
  });

  it('update-kube-proxy-addon: a failed EKS update and a denied call are reported, and nothing is retried', async () => {
    const ctx = await eksContext('version-skew');
    ctx.fake.updateStatuses = [
      { status: 'InProgress' },
      { status: 'Failed', errors: [{ errorCode: 'ConfigurationConflict', errorMessage: 'Conflicts found' }] },
    ];
    const plan = await planAction(ctx, { action: 'update-kube-proxy-addon' });
    if (!plan.ok) throw new Error(plan.reason);
    const failed = await executePlan(ctx, plan.value, undefined, { pollIntervalMs: 1 });
    expect(failed.ok).toBe(false);
    expect(failed.error).toMatch(/EKS update upd-1 Failed: ConfigurationConflict: Conflicts found$/);
    ctx.fake.updateError = {
      status: 403,
      type: 'AccessDeniedException',
      message: 'not authorized: eks:UpdateAddon',
    };
    const denied = await executePlan(ctx, plan.value);
    expect(denied.error).toMatch(/eks:UpdateAddon failed: AccessDeniedException/);
    expect(ctx.fake.addonUpdates).toHaveLength(2);
  });

  it('update-kube-proxy-addon is refused without EKS, and when the add-on already matches', async () => {
    const h = await http('version-skew');
    const noEks = await planAction({ http: h }, { action: 'update-kube-proxy-addon' });
    expect(noEks.ok ? '' : noEks.reason).toMatch(/needs an EKS cluster/);
    await served?.stop();
    const ctx = await eksContext('version-skew');
    ctx.fake.addonVersions.set('1.30', ['v1.26.15-eksbuild.2']);
    const same = await planAction(ctx, { action: 'update-kube-proxy-addon' });
    expect(same.ok ? '' : same.reason).toMatch(/already at v1\.26\.15-eksbuild\.2/);
    expect(ctx.fake.addonUpdates).toEqual([]);
  });
});
