/**
 * kube-proxy's endpoints and the node captures on the live path, against a test API server
 * that answers like the real chain (issue 13): 503 healthz bodies, metrics bound to
 * 127.0.0.1, pods/proxy instead of nodes/proxy, and the debug pod's lifecycle.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import { BundleDir } from '../src/cluster/bundle/files.js';
import { parseConfig } from '../src/config/config.js';
import type { Diagnosis } from '../src/engine/diagnosis.js';
import { diagnoseSource } from '../src/engine/engine.js';
import type { BundleApiServerOptions } from '../src/testserver/bundle-api-server.js';
import { defaultSourceFor } from '../src/workers/diagnose-worker.js';
import { bundlesDir, copyExample } from './helpers/bundles.js';
import { type Served, serve, servedClusterYaml } from './helpers/live.js';
import { deployGrants } from './helpers/rbac.js';

const n2 = 'ip-10-0-2-45.ec2.internal';
const webApi = { target: { namespace: 'app', service: 'web-api', node: n2 } };
const running: Served[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
  for (const c of cleanups.splice(0)) await c();
});

async function served(dir: string, options: BundleApiServerOptions = {}): Promise<Served> {
  const s = await serve(dir, options);
  running.push(s);
  return s;
}

const finding = (d: Diagnosis, check: string) => d.findings.find((f) => f.check === check);

/** A copy of an example whose kube-proxy binds metrics where kube-proxy's default does. */
async function metricsOnLocalhost(name: string): Promise<string> {
  const copy = await copyExample(name);
  cleanups.push(copy.cleanup);
  const file = path.join(copy.dir, 'namespaces', 'kube-system', 'configmaps.json');
  const text = await readFile(file, 'utf8');
  await writeFile(
    file,
    text.replace('metricsBindAddress: 0.0.0.0:10249', 'metricsBindAddress: 127.0.0.1:10249'),
  );
  return copy.dir;
}

describe('healthz: a 503 with kube-proxy’s JSON is a reading, a 503 Status is not', () => {
  it('a stale kube-proxy answers 503 with its body, and the sync check fails on it', async () => {
    const s = await served(path.join(bundlesDir, 'iptables-xtables-lock'));
    const live = await diagnoseSource(s.source({ nodeCaptures: 'off' }), {
      target: { namespace: 'app', service: 'web-api', node: n2 },
    });
    expect(s.server.requests.find((r) => r.path.endsWith(`${n2}:10256/proxy/healthz`))?.status).toBe(503);
    const sync = finding(live, 'kube-proxy.sync');
    expect(sync?.status).toBe('fail');
    expect(JSON.stringify(sync)).toContain('healthz unhealthy');
  });

  it('a 503 Status from the API server (node unreachable) is not read as health', async () => {
    const s = await served(path.join(bundlesDir, 'healthy'), {
      faults: [
        {
          match: /:10256\/proxy\/healthz$/,
          respond: 503,
          reason: 'ServiceUnavailable',
          message: 'error trying to reach service: dial tcp 10.0.2.45:10256: i/o timeout',
        },
      ],
    });
    const { bundle } = await s.source({ nodeCaptures: 'off' }).collect(webApi);
    const healthz = await bundle.readText(`nodes/${n2}/healthz.json`);
    expect(healthz).toMatchObject({ state: 'missing' });
    expect(JSON.stringify(healthz)).toContain('error trying to reach service');
  });
});

describe('metrics bound to 127.0.0.1', () => {
  it('the reason says why, and exec captures follow the mode kube-proxy logs (nftables), not a fallback', async () => {
    const dir = await metricsOnLocalhost('stale-endpoints-nftables');
    const s = await served(dir);
    const source = s.source({ nodeCaptures: 'exec' });
    const { bundle } = await source.collect(webApi);
    const metrics = await bundle.readText(`nodes/${n2}/metrics.txt`);
    expect(JSON.stringify(metrics)).toContain(
      'metrics bound to 127.0.0.1 (metricsBindAddress 127.0.0.1:10249)',
    );
    expect(s.server.requests.filter((r) => r.path.endsWith('/exec')).map((r) => r.query.command)).toEqual([
      'cat /proc/sys/net/netfilter/nf_conntrack_count /proc/sys/net/netfilter/nf_conntrack_max',
      'nft list ruleset',
    ]);
    const offline = await diagnoseSource(new BundleSource(path.join(bundlesDir, 'stale-endpoints-nftables')));
    const live = await diagnoseSource(s.source({ nodeCaptures: 'exec' }), webApi);
    expect(finding(live, 'dataplane.rules')?.status).toBe(finding(offline, 'dataplane.rules')?.status);
  });

  it('the test API server answers :10249 from its parsed node list, not by re-reading nodes.json each time', async () => {
    const dir = await metricsOnLocalhost('healthy');
    const s = await served(dir);
    const reads = vi.spyOn(BundleDir.prototype, 'readJson');
    cleanups.push(async () => reads.mockRestore());
    for (let i = 0; i < 3; i++) {
      const { bundle } = await s.source({ nodeCaptures: 'off' }).collect(webApi);
      // The real chain's answer, every time: the API server could not reach the node's address.
      expect(JSON.stringify(await bundle.readText(`nodes/${n2}/metrics.txt`))).toContain(
        'metrics bound to 127.0.0.1',
      );
    }
    expect(
      s.server.requests.filter((r) => r.path.endsWith(':10249/proxy/metrics')).map((r) => r.status),
    ).toEqual([503, 503, 503]);
    // A 5,000-node nodes.json is 24 MiB: parsed once, as an API server reads its cache.
    expect(reads.mock.calls.filter(([rel]) => rel === 'nodes.json').length).toBeLessThanOrEqual(1);
  });

  it('a debug pod reads metrics and proxyMode on the host network instead', async () => {
    const dir = await metricsOnLocalhost('healthy');
    const s = await served(dir);
    const { bundle } = await s.source({ nodeCaptures: 'debug-pod' }).collect(webApi);
    expect(await bundle.readText(`nodes/${n2}/proxy-mode.txt`)).toMatchObject({ state: 'collected' });
    expect(await bundle.readText(`nodes/${n2}/metrics.txt`)).toMatchObject({ state: 'collected' });
    const commands = s.server.requests.filter((r) => r.path.endsWith('/exec')).map((r) => r.query.command);
    expect(commands).toContain('curl -sS --max-time 5 http://127.0.0.1:10249/metrics');
    expect(commands).toContain('curl -sS --max-time 5 http://127.0.0.1:10249/proxyMode');
  });
});

describe('pods/proxy instead of nodes/proxy', () => {
  const narrow = () => deployGrants('kproxy-reader', 'kproxy-reader-kube-system', 'kproxy-node-capture-exec');

  it('with proxyVia pods, the roles without nodes/proxy read healthz and metrics', async () => {
    const s = await served(path.join(bundlesDir, 'stale-endpoints'), { rbac: narrow() });
    const live = await diagnoseSource(s.source({ nodeCaptures: 'exec', proxyVia: 'pods' }), webApi);
    const offline = await diagnoseSource(new BundleSource(path.join(bundlesDir, 'stale-endpoints')));
    expect(finding(live, 'kube-proxy.sync')?.status).toBe(finding(offline, 'kube-proxy.sync')?.status);
    expect(finding(live, 'dataplane.rules')?.status).toBe('fail');
    expect(
      s.server.requests.some((r) => r.path.startsWith('/api/v1/nodes/') && r.path.includes('/proxy/')),
    ).toBe(false);
    expect(s.server.requests.filter((r) => r.path.includes('/proxy/')).every((r) => r.status === 200)).toBe(
      true,
    );
  });

  it('with proxyVia nodes and no nodes/proxy grant, the reason names nodes/proxy', async () => {
    const s = await served(path.join(bundlesDir, 'stale-endpoints'), { rbac: narrow() });
    const { bundle } = await s.source({ nodeCaptures: 'off' }).collect(webApi);
    expect(JSON.stringify(await bundle.readText(`nodes/${n2}/healthz.json`))).toContain(
      '(RBAC: grant \\"get\\" on nodes/proxy)',
    );
  });

  it("deploy/base's roles suffice for a full live diagnosis in both modes", async () => {
    const all = deployGrants(
      'kproxy-reader',
      'kproxy-reader-kube-system',
      'kproxy-reader-nodes-proxy',
      'kproxy-node-capture-exec',
    );
    for (const proxyVia of ['nodes', 'pods'] as const) {
      const s = await served(path.join(bundlesDir, 'stale-endpoints'), { rbac: all });
      await diagnoseSource(s.source({ nodeCaptures: 'exec', proxyVia }), webApi);
      expect(s.server.requests.filter((r) => r.rbacDenied).map((r) => r.path)).toEqual([]);
    }
  });
});

describe('the debug pod', () => {
  it('is pinned by digest, IfNotPresent, without a token, and deleted with a grace period of 1', async () => {
    const s = await served(path.join(bundlesDir, 'healthy'));
    await s.source({ nodeCaptures: 'debug-pod' }).collect(webApi);
    const [pod] = s.server.capturePods.created as {
      spec: Record<string, unknown> & { containers: Record<string, unknown>[] };
    }[];
    expect(pod?.spec.containers[0]?.image).toMatch(
      /^docker\.io\/nicolaka\/netshoot:v0\.13@sha256:[0-9a-f]{64}$/,
    );
    expect(pod?.spec.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    expect(pod?.spec.automountServiceAccountToken).toBe(false);
    expect(pod?.spec.terminationGracePeriodSeconds).toBe(1);
    expect(s.server.capturePods.deleteOptions).toEqual([
      { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 1 },
    ]);
  });

  it('a registry mirror replaces docker.io', async () => {
    const { debugImageFrom } = await import('../src/cluster/live/node-captures.js');
    expect(debugImageFrom('registry.internal:5000/mirror')).toMatch(
      /^registry\.internal:5000\/mirror\/nicolaka\/netshoot:v0\.13@sha256:/,
    );
  });

  it('says why it never ran (ImagePullBackOff), and is deleted', async () => {
    const s = await served(path.join(bundlesDir, 'healthy'), {
      debugPodStatus: {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'capture',
            state: {
              waiting: {
                reason: 'ImagePullBackOff',
                message: 'Back-off pulling image "docker.io/nicolaka/netshoot"',
              },
            },
          },
        ],
      },
    });
    const { bundle } = await s
      .source({ nodeCaptures: 'debug-pod', debugPod: { startTimeoutMs: 1500 } })
      .collect(webApi);
    expect(JSON.stringify(await bundle.readText(`nodes/${n2}/conntrack.txt`))).toContain(
      'not Running after 1.5s: ImagePullBackOff: Back-off pulling image',
    );
    expect(s.server.liveDebugPods).toEqual([]);
  });

  it('sweeps leftovers of a crashed kproxy by label (finished or past deadline), not a pod in use', async () => {
    const s = await served(path.join(bundlesDir, 'healthy'));
    const labels = { 'app.kubernetes.io/managed-by': 'kproxy', 'kproxy.io/role': 'node-capture' };
    const pod = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels },
      spec: { nodeName: n2 },
    });
    s.server.seedDebugPod(
      pod('kproxy-capture-old'),
      'kube-system',
      { phase: 'Running' },
      new Date(Date.now() - 3_600_000),
    );
    s.server.seedDebugPod(pod('kproxy-capture-done'), 'kube-system', { phase: 'Failed' });
    s.server.seedDebugPod(pod('kproxy-capture-busy'), 'kube-system', { phase: 'Running' });
    await s.source({ nodeCaptures: 'debug-pod' }).collect(webApi);
    expect(s.server.liveDebugPods).toEqual(['kube-system/kproxy-capture-busy']);
  });
});

describe('per-cluster configuration', () => {
  it('proxyVia and debugImageRegistry from kproxy.yaml reach the live source', async () => {
    const s = await served(path.join(bundlesDir, 'healthy'));
    const config = parseConfig(
      [
        ...servedClusterYaml(s, ['C0INCIDENT1'], 'debug-pod'),
        '    proxyVia: pods',
        '    debugImageRegistry: registry.internal:5000',
      ].join('\n'),
      'kproxy.yaml',
    );
    const source = await defaultSourceFor(config.clusters[0] as (typeof config.clusters)[number]);
    await diagnoseSource(source, webApi);
    expect(s.server.requests.filter((r) => r.path.includes('/proxy/')).map((r) => r.path)).toContain(
      '/api/v1/namespaces/kube-system/pods/kube-proxy-k2v9d:10256/proxy/healthz',
    );
    const [pod] = s.server.capturePods.created as { spec: { containers: { image: string }[] } }[];
    expect(pod?.spec.containers[0]?.image).toMatch(
      /^registry\.internal:5000\/nicolaka\/netshoot:v0\.13@sha256:/,
    );
    expect(() =>
      parseConfig(
        [...servedClusterYaml(s, ['C0INCIDENT1']), '    proxyVia: kubelet'].join('\n'),
        'kproxy.yaml',
      ),
    ).toThrow(/clusters\[0\]\.proxyVia: must be one of "nodes", "pods"/);
  });
});
