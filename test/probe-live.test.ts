import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeCommand } from '../src/cluster/probe/script.js';
import { parseConfig } from '../src/config/config.js';
import type { Diagnosis } from '../src/engine/diagnosis.js';
import { diagnoseSource } from '../src/engine/engine.js';
import type { BundleApiServerOptions } from '../src/testserver/bundle-api-server.js';
import { bundlesDir } from './helpers/bundles.js';
import { type Served, serve } from './helpers/live.js';
import { deployGrants, probeGrants } from './helpers/rbac.js';

const n2 = 'ip-10-0-2-45.ec2.internal';
const n3 = 'ip-10-0-3-67.ec2.internal';
const webApi = { target: { namespace: 'app', service: 'web-api', node: n2 } };
const fromBatch = {
  target: { namespace: 'app', service: 'web-api', from: { namespace: 'app', name: 'batch' } },
};
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const reader = deployGrants('kproxy-reader', 'kproxy-reader-kube-system', 'kproxy-reader-nodes-proxy');

async function served(name: string, options: BundleApiServerOptions = {}): Promise<Served> {
  const s = await serve(path.join(bundlesDir, name), {
    rbac: [...reader, ...probeGrants('kube-system', 'app')],
    ...options,
  });
  cleanups.push(() => s.stop());
  return s;
}

const probe = (d: Diagnosis) => d.findings.find((f) => f.check === 'probe.path');
const posts = (s: Served) => s.server.requests.filter((r) => r.method === 'POST').map((r) => r.path);
type CreatedPod = {
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  spec: Record<string, unknown> & {
    containers: (Record<string, unknown> & { env: { name: string; value?: string }[] })[];
  };
};

describe('the probe pod', () => {
  it('is hardened (pinned image, labels, deadline, no token, unprivileged, never Ready), runs the probe, and is deleted', async () => {
    const s = await served('probe-vip-fails');
    const d = await diagnoseSource(s.source({ nodeCaptures: 'off', probe: { mode: 'debug-pod' } }), webApi);
    expect(d.rootCause).toMatchObject({ category: 'stale_endpoints', nodes: [n2] });
    expect(probe(d)?.status).toBe('fail');
    const [pod] = s.server.capturePods.created as CreatedPod[];
    expect(pod?.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'kproxy',
      'kproxy.io/role': 'probe',
      'kproxy.io/node': n2,
    });
    expect(pod?.spec).toMatchObject({
      nodeName: n2,
      automountServiceAccountToken: false,
      activeDeadlineSeconds: 300,
      terminationGracePeriodSeconds: 1,
      restartPolicy: 'Never',
      securityContext: { runAsNonRoot: true },
    });
    expect(pod?.spec.hostNetwork).toBeUndefined();
    const container = pod?.spec.containers[0];
    expect(container?.image).toMatch(/^docker\.io\/nicolaka\/netshoot:v0\.13@sha256:[0-9a-f]{64}$/);
    expect(container?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(container?.readinessProbe).toEqual({ exec: { command: ['false'] }, periodSeconds: 60 });
    const exec = s.server.requests.filter((r) => r.path.endsWith('/exec'));
    expect(exec.map((r) => r.query.command)).toEqual([
      probeCommand([
        'dns=web-api.app.svc',
        'vip=172.20.91.14:80',
        'endpoint=10.0.1.101:8080',
        'endpoint=10.0.2.57:8080',
        'endpoint=10.0.3.88:8080',
        'apiserver=kubernetes.default.svc:443',
      ]).join(' '),
    ]);
    expect(s.server.capturePods.deleteOptions).toEqual([
      { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 1 },
    ]);
    expect(s.server.liveDebugPods).toEqual([]);
    expect(s.server.requests.filter((r) => r.rbacDenied)).toEqual([]);
  });

  it('with --from: in the client namespace with its labels (not its pod-template-hash), so NetworkPolicy is tested', async () => {
    const s = await served('probe-networkpolicy-from');
    const d = await diagnoseSource(
      s.source({ nodeCaptures: 'off', probe: { mode: 'debug-pod' } }),
      fromBatch,
    );
    expect(d.rootCause.category).toBe('network_policy');
    expect(probe(d)?.evidence).toEqual([
      `from ${n3} as app/batch (namespace app): name ✓ 172.20.91.14 · VIP 172.20.91.14:80 ✗ timeout · pods 0/3 ✗ (10.0.1.101:8080 ✗ timeout, 10.0.2.57:8080 ✗ timeout, 10.0.3.88:8080 ✗ timeout) · API ✓ 403`,
    ]);
    const [pod] = s.server.capturePods.created as CreatedPod[];
    expect(pod?.metadata.namespace).toBe('app');
    expect(pod?.metadata.labels.app).toBe('batch');
    expect(pod?.metadata.labels['pod-template-hash']).toBeUndefined();
    expect(pod?.spec.containers[0]?.env).toContainEqual({ name: 'KPROXY_AS', value: 'app/batch' });
    expect(s.server.liveDebugPods).toEqual([]);
  });

  it("the client's namespace refuses it: kproxy's namespace, kproxy's labels, and the bundle's answer is refused (never another probe's)", async () => {
    const s = await served('probe-networkpolicy-from', { rbac: [...reader, ...probeGrants('kube-system')] });
    const d = await diagnoseSource(
      s.source({ nodeCaptures: 'off', probe: { mode: 'debug-pod' } }),
      fromBatch,
    );
    expect(posts(s)).toEqual(['/api/v1/namespaces/app/pods', '/api/v1/namespaces/kube-system/pods']);
    const f = probe(d);
    expect(f?.status).toBe('unknown');
    expect(f?.nodes?.[n3]?.summary).toContain(
      "the bundle's probe ran in namespace app, this pod is in kube-system",
    );
    // The policy read from the objects still decides, without the probe's confirmation.
    expect(d.rootCause.category).toBe('network_policy');
    expect(s.server.liveDebugPods).toEqual([]);
  });

  it('the test API server answers only the paths the bundle recorded: another plan is refused, naming both', async () => {
    const s = await served('probe-vip-fails');
    const d = await diagnoseSource(
      s.source({ nodeCaptures: 'off', probe: { mode: 'debug-pod', maxEndpoints: 1 } }),
      webApi,
    );
    expect(probe(d)?.nodes?.[n2]?.summary).toContain(
      `the bundle's probe tried "dns=web-api.app.svc vip=172.20.91.14:80 endpoint=10.0.1.101:8080 endpoint=10.0.2.57:8080 endpoint=10.0.3.88:8080 apiserver=kubernetes.default.svc:443", not "dns=web-api.app.svc vip=172.20.91.14:80 endpoint=10.0.1.101:8080 apiserver=kubernetes.default.svc:443"`,
    );
    expect(probe(d)?.status).toBe('unknown');
    expect(s.server.liveDebugPods).toEqual([]);
  });

  it('could not run (ImagePullBackOff): unknown, naming why, and deleted', async () => {
    const s = await served('probe-vip-fails', {
      debugPodStatus: {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'probe',
            state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } },
          },
        ],
      },
    });
    const d = await diagnoseSource(
      s.source({ nodeCaptures: 'off', probe: { mode: 'debug-pod', startTimeoutMs: 1500 } }),
      webApi,
    );
    expect(probe(d)?.nodes?.[n2]?.summary).toContain(
      'not Running after 1.5s: ImagePullBackOff: Back-off pulling image',
    );
    expect(d.verdict).toBe('inconclusive');
    expect(d.mitigation.actions).toEqual([]);
    expect(s.server.liveDebugPods).toEqual([]);
  });

  it('not permitted to create pods: unknown, naming the verb', async () => {
    const s = await served('probe-vip-fails', { rbac: reader });
    const d = await diagnoseSource(s.source({ nodeCaptures: 'off', probe: { mode: 'debug-pod' } }), webApi);
    expect(probe(d)?.nodes?.[n2]?.summary).toMatch(
      /^probe did not run: probe pod not created: .*create.*pods/,
    );
    expect(d.verdict).toBe('inconclusive');
  });

  it('off (the default): no pod, and the check says it is off', async () => {
    const s = await served('probe-vip-fails');
    const d = await diagnoseSource(s.source({ nodeCaptures: 'off' }), webApi);
    expect(posts(s)).toEqual([]);
    expect(probe(d)?.summary).toContain('off for this cluster');
  });

  it('sweeps probe pods a crashed kproxy left (finished or past the deadline)', async () => {
    const s = await served('probe-all-pass');
    const labels = { 'app.kubernetes.io/managed-by': 'kproxy', 'kproxy.io/role': 'probe' };
    const pod = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels },
      spec: { nodeName: n2 },
    });
    s.server.seedDebugPod(
      pod('kproxy-probe-old'),
      'kube-system',
      { phase: 'Running' },
      new Date(Date.now() - 3_600_000),
    );
    s.server.seedDebugPod(pod('kproxy-probe-busy'), 'kube-system', { phase: 'Running' });
    const d = await diagnoseSource(s.source({ nodeCaptures: 'off', probe: { mode: 'debug-pod' } }), webApi);
    expect(probe(d)?.status).toBe('pass');
    expect(s.server.liveDebugPods).toEqual(['kube-system/kproxy-probe-busy']);
  });

  it('kproxy collect writes the matrix as probe/<node>/matrix.txt, byte for byte', async () => {
    const s = await served('probe-dns-fails');
    const { bundle } = await s.source({ nodeCaptures: 'off', probe: { mode: 'debug-pod' } }).collect(webApi);
    const { readFile } = await import('node:fs/promises');
    const recorded = await readFile(
      path.join(bundlesDir, 'probe-dns-fails', 'probe', n2, 'matrix.txt'),
      'utf8',
    );
    expect(await bundle.readText(`probe/${n2}/matrix.txt`)).toEqual({ state: 'collected', value: recorded });
  });
});

describe('probe in kproxy.yaml', () => {
  it('is off unless the cluster enables it, and only off or debug-pod', () => {
    const base = [
      'clusters:',
      '  - name: c1',
      '    kubeconfig: { path: /k, context: c }',
      '    channels: [C0INCIDENT1]',
    ];
    const config = parseConfig(base.join('\n'), 'kproxy.yaml');
    expect(config.clusters[0]).toMatchObject({ probe: 'off', probeNamespace: 'kube-system' });
    expect(parseConfig([...base, '    probe: debug-pod'].join('\n'), 'kproxy.yaml').clusters[0]?.probe).toBe(
      'debug-pod',
    );
    expect(() => parseConfig([...base, '    probe: always'].join('\n'), 'kproxy.yaml')).toThrow(/probe/);
    expect(() =>
      parseConfig([...base, '    probeNamespace: Not_A_Namespace'].join('\n'), 'kproxy.yaml'),
    ).toThrow(/probeNamespace/);
  });
});
