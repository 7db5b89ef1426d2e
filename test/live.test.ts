/**
 * The live path end to end: the real @kubernetes/client-node against the test API server
 * serving each example bundle. Live and bundle diagnoses must agree; RBAC gaps, timeouts
 * and dropped connections must make exactly the dependent checks `unknown`, naming why.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import { writeBundle } from '../src/cluster/bundle/write.js';
import type { Diagnosis } from '../src/engine/diagnosis.js';
import { diagnoseSource } from '../src/engine/engine.js';
import type { Fault } from '../src/testserver/bundle-api-server.js';
import { bundlesDir } from './helpers/bundles.js';
import { startEksFakes } from './helpers/eks-fakes.js';
import { type Served, serve } from './helpers/live.js';
import { deployGrants, probeGrants } from './helpers/rbac.js';

const n2 = 'ip-10-0-2-45.ec2.internal';
const webApi = { target: { namespace: 'app', service: 'web-api', node: n2 } };
const scenarioNames = readdirSync(bundlesDir).sort();
const running: Served[] = [];
const temp: string[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  for (const s of running.splice(0)) await s.stop();
  for (const d of temp.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Every role deploy/base defines for the worker's reads and captures (debug-pod included). */
const deployRoles = [
  ...deployGrants(
    'kproxy-reader',
    'kproxy-reader-kube-system',
    'kproxy-reader-nodes-proxy',
    'kproxy-node-capture-exec',
    'kproxy-node-capture-debug-pod',
  ),
  // deploy/optional/ingress-controller-logs.yaml: the ClusterRole bound in ingress-nginx only.
  ...deployGrants('kproxy-reader-ingress-logs').map((g) => ({ ...g, namespace: 'ingress-nginx' })),
];

async function served(name: string, faults: Fault[] = []): Promise<Served> {
  // Authorized with deploy/base's roles, as the real API server would: a missing verb fails here.
  // The probe's optional role is bound in kube-system and the clients' namespace (app).
  const s = await serve(path.join(bundlesDir, name), {
    faults,
    rbac: [...deployRoles, ...probeGrants('kube-system', 'app')],
  });
  running.push(s);
  return s;
}

const fromBundle = (name: string) => diagnoseSource(new BundleSource(path.join(bundlesDir, name)));
const targetOf = (d: Diagnosis) => ({
  namespace: d.target.namespace ?? undefined,
  service: d.target.service ?? undefined,
  node: d.target.node ?? undefined,
});
const statuses = (d: Diagnosis) => Object.fromEntries(d.findings.map((f) => [f.check, f.status]));
/**
 * The bundle's named client (`target.from`) and route (`target.route`, issue 18 §4), which
 * the diagnosis' own target does not echo as objects.
 */
async function clientOf(name: string): Promise<{
  from?: { namespace: string; name: string };
  route?: { kind: 'Ingress' | 'HTTPRoute'; namespace: string; name: string };
}> {
  const manifest = JSON.parse(await readFile(path.join(bundlesDir, name, 'bundle.json'), 'utf8')) as {
    target?: { from?: string; route?: { kind: 'Ingress' | 'HTTPRoute'; namespace: string; name: string } };
  };
  const [namespace, client] = manifest.target?.from?.split('/') ?? [];
  return {
    ...(namespace && client ? { from: { namespace, name: client } } : {}),
    ...(manifest.target?.route ? { route: manifest.target.route } : {}),
  };
}

const finding = (d: Diagnosis, check: string) => d.findings.find((f) => f.check === check);

describe('live diagnosis through the test API server', () => {
  it.each(scenarioNames)('%s: same root cause, nodes and finding statuses as the bundle', async (name) => {
    const bundle = await fromBundle(name);
    const s = await served(name);
    // A bundle with a probe result was collected with the probe on.
    const probe = existsSync(path.join(bundlesDir, name, 'probe'));
    // Bundles with the EKS control-plane path are read live through the EKS, EC2 and CloudWatch fakes.
    const eks = existsSync(path.join(bundlesDir, name, 'eks', 'ec2'))
      ? await startEksFakes(path.join(bundlesDir, name), s.server.url)
      : undefined;
    if (eks) stops.push(() => eks.stop());
    const live = await diagnoseSource(
      s.source({
        ...(probe ? { probe: { mode: 'debug-pod' as const } } : {}),
        ...(eks ? { provider: eks.access } : {}),
      }),
      { target: { ...targetOf(bundle), ...(await clientOf(name)) } },
    );
    expect(live.rootCause.category).toBe(bundle.rootCause.category);
    expect(live.rootCause.nodes).toEqual(bundle.rootCause.nodes);
    expect(statuses(live)).toEqual(statuses(bundle));
    expect(live.observedAt).toBe(bundle.observedAt);
    expect(s.server.liveDebugPods).toEqual([]);
    expect(s.server.requests.filter((r) => r.rbacDenied).map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it('reads only what the target needs: no cluster-wide lists of nodes or pods', async () => {
    const bundle = await fromBundle('stale-endpoints');
    const s = await served('stale-endpoints');
    await diagnoseSource(s.source(), { target: targetOf(bundle) });
    const paths = s.server.requests.map(
      (r) =>
        `${r.method} ${r.path}${r.query.fieldSelector ? `?fieldSelector=${r.query.fieldSelector}` : ''}${r.query.labelSelector ? `?labelSelector=${r.query.labelSelector}` : ''}`,
    );
    expect(paths).not.toContain('GET /api/v1/nodes');
    expect(paths).toContain(`GET /api/v1/nodes/${n2}`);
    expect(paths).toContain(`GET /api/v1/namespaces/kube-system/pods?fieldSelector=spec.nodeName=${n2}`);
    expect(paths).toContain('GET /api/v1/namespaces/app/pods?labelSelector=app=web-api');
    expect(paths).toContain(
      'GET /apis/discovery.k8s.io/v1/namespaces/app/endpointslices?labelSelector=kubernetes.io/service-name=web-api',
    );
    expect(paths.filter((p) => p.includes('/log'))).toEqual([
      `GET /api/v1/namespaces/kube-system/pods/kube-proxy-k2v9d/log`,
    ]);
    expect(
      s.server.requests.every(
        (r) => r.method === 'GET' || r.path.startsWith('/api/v1/namespaces/kube-system/pods'),
      ),
    ).toBe(true);
  });

  it('a cluster-wide live diagnosis reads logs and captures of at most three nodes', async () => {
    const s = await served('kube-proxy-crashloop');
    const live = await diagnoseSource(s.source(), { clusterWide: true });
    expect(live.rootCause).toMatchObject({ category: 'pod_crash', nodes: [n2] });
    expect(s.server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('the debug pod is created for the affected node only and deleted afterwards', async () => {
    const s = await served('healthy');
    await diagnoseSource(s.source(), webApi);
    const created = s.server.requests.filter((r) => r.method === 'POST');
    const deleted = s.server.requests.filter((r) => r.method === 'DELETE');
    expect(created).toHaveLength(1);
    expect(deleted).toHaveLength(1);
    expect(s.server.liveDebugPods).toEqual([]);
    expect(s.server.count(/^EXEC /)).toBe(0);
    expect(s.server.requests.filter((r) => r.path.endsWith('/exec')).map((r) => r.query.command)).toEqual([
      'nsenter -t 1 -m -n iptables-save',
      'nsenter -t 1 -m -n ip6tables-save',
      'ipvsadm -Ln',
      'nft list ruleset',
      'conntrack -S',
      'sysctl net.netfilter.nf_conntrack_count net.netfilter.nf_conntrack_max',
      'sh -c dmesg | tail -n 200',
      'lsmod',
      'ip -o link',
    ]);
  });

  it('exec mode captures iptables and the conntrack sysctls in the kube-proxy pod: both verdicts match the bundle', async () => {
    for (const name of ['stale-endpoints', 'stale-endpoints-nftables', 'healthy']) {
      const bundle = await fromBundle(name);
      const s = await served(name);
      const live = await diagnoseSource(s.source({ nodeCaptures: 'exec' }), { target: targetOf(bundle) });
      expect(finding(live, 'dataplane.rules')?.status, name).toBe(finding(bundle, 'dataplane.rules')?.status);
      // cat of /proc/sys (the kube-proxy image has no sysctl): decided, where it used to be unknown.
      expect(finding(live, 'node.conntrack')?.status, name).toBe('pass');
      expect(finding(bundle, 'node.conntrack')?.status, name).toBe('pass');
      expect(s.server.requests.map((r) => r.query.command)).toContain(
        'cat /proc/sys/net/netfilter/nf_conntrack_count /proc/sys/net/netfilter/nf_conntrack_max',
      );
      expect(live.rootCause.category).toBe(bundle.rootCause.category);
      expect(s.server.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    }
  });

  it('node captures off: the dataplane is unknown, never pass', async () => {
    const s = await served('healthy');
    const live = await diagnoseSource(s.source({ nodeCaptures: 'off' }), webApi);
    expect(finding(live, 'dataplane.rules')?.status).toBe('unknown');
    expect(s.server.requests.some((r) => r.path.endsWith('/exec'))).toBe(false);
  });
});

describe('RBAC gaps, timeouts and dropped connections', () => {
  it('403 on EndpointSlices: the endpoint checks are unknown and name the verb and resource', async () => {
    const s = await served('stale-endpoints', [
      { match: /^GET \/apis\/discovery\.k8s\.io\/v1\/namespaces\/app\/endpointslices$/, respond: 403 },
    ]);
    const live = await diagnoseSource(s.source(), {
      target: { namespace: 'app', service: 'web-api', node: n2 },
    });
    const endpoints = finding(live, 'endpoints.ready');
    expect(endpoints?.status).toBe('unknown');
    expect(endpoints?.summary).toBe(
      'cannot read EndpointSlices: forbidden: list endpointslices.discovery.k8s.io in app (RBAC: grant "list" on endpointslices.discovery.k8s.io)',
    );
    expect(finding(live, 'dataplane.rules')?.status).toBe('unknown');
    expect(finding(live, 'kube-proxy.pods')?.status).toBe('pass');
    expect(finding(live, 'kube-proxy.sync')?.status).toBe('pass');
    expect(live.rootCause.category).not.toBe('no_endpoints');
  });

  it('403 on pods/log: log-based checks are unknown or fall back to healthz and metrics', async () => {
    const s = await served('api-unauthorized', [{ match: /\/log$/, respond: 403 }]);
    const live = await diagnoseSource(s.source(), {
      target: { namespace: 'app', service: 'web-api', node: n2 },
    });
    const api = finding(live, 'kube-proxy.api');
    expect(api?.status).toBe('unknown');
    expect(api?.nodes?.[n2]?.summary).toContain('forbidden: get pods/log in kube-system');
    expect(finding(live, 'kube-proxy.sync')?.status).toBe('pass');
  });

  it('403 on exec: the dataplane is unknown and says which permission is missing', async () => {
    const s = await served('stale-endpoints', [{ match: /^EXEC /, respond: 403 }]);
    const live = await diagnoseSource(s.source({ nodeCaptures: 'exec' }), {
      target: { namespace: 'app', service: 'web-api', node: n2 },
    });
    const dataplane = finding(live, 'dataplane.rules');
    expect(dataplane?.status).toBe('unknown');
    // The injected 403 is the RBAC denial of the upgrade GET, so the hint names `get`.
    expect(dataplane?.nodes?.[n2]?.summary).toContain(
      'forbidden: get pods/exec in kube-system (RBAC: grant "get" on pods/exec)',
    );
  });

  it('a failing debug pod exec still deletes the pod', async () => {
    const s = await served('healthy', [{ match: /^EXEC /, respond: 'drop' }]);
    const live = await diagnoseSource(s.source(), webApi);
    expect(finding(live, 'node.conntrack')?.status).toBe('unknown');
    expect(s.server.liveDebugPods).toEqual([]);
    expect(s.server.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });

  it('a timed-out list and a dropped connection become unknown with the cause; the rest completes', async () => {
    const s = await served('healthy', [
      {
        match: /^GET \/apis\/networking\.k8s\.io\/v1\/namespaces\/app\/networkpolicies$/,
        respond: 'timeout',
      },
      { match: /^GET \/api\/v1\/nodes\/[^/]+:10249\/proxy\/metrics$/, respond: 'drop' },
      { match: /^GET \/apis\/apps\/v1\/namespaces\/kube-system\/deployments\/coredns$/, respond: 500 },
    ]);
    const live = await diagnoseSource(s.source({ http: { timeoutMs: 400 } }), webApi);
    expect(finding(live, 'network-policy.ingress')?.status).toBe('unknown');
    expect(finding(live, 'network-policy.ingress')?.summary).toBe(
      'cannot read NetworkPolicies: timeout: list networkpolicies.networking.k8s.io in app took longer than the limit',
    );
    expect(finding(live, 'kube-proxy.sync')?.status).toBe('pass');
    expect(finding(live, 'dns.coredns')?.status).toBe('pass');
    expect(live.rootCause.category).toBe('none');
  });

  it('an unreachable API server is an error, not a diagnosis', async () => {
    const s = await served('healthy');
    const source = s.source();
    await s.server.stop();
    await expect(diagnoseSource(source, webApi)).rejects.toThrow(
      /^cannot use the Kubernetes API of context bundle: connection failed \(ECONNREFUSED\)/,
    );
  });
});

describe('kproxy collect', () => {
  it('writes a bundle that diagnoses offline exactly like the live cluster (round trip)', async () => {
    for (const name of ['iptables-xtables-lock', 'ipvs-kube-ipvs0-missing']) {
      const bundle = await fromBundle(name);
      const s = await served(name);
      const target = targetOf(bundle);
      const live = await diagnoseSource(s.source(), { target });
      const { bundle: collected } = await s.source().collect({ target });
      const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-collect-'));
      temp.push(dir);
      for (const out of [path.join(dir, 'b'), path.join(dir, 'b.tar.gz')]) {
        const written = await writeBundle(collected, out);
        const offline = await diagnoseSource(new BundleSource(written.path));
        expect(offline.rootCause).toEqual(live.rootCause);
        expect(statuses(offline)).toEqual(statuses(live));
      }
      const manifest = JSON.parse(await readFile(path.join(dir, 'b', 'bundle.json'), 'utf8')) as {
        notCollected: Record<string, string>;
        collectedAt: string;
      };
      expect(manifest.collectedAt).toBe('2026-11-22T10:00:00.000Z');
      expect(Object.keys(manifest.notCollected).length).toBeGreaterThan(0);
      await expect(writeBundle(collected, path.join(dir, 'b'))).rejects.toThrow(/already exists/);
    }
  });
});
