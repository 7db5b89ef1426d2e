/**
 * Issue 12 items 5, 6 and 7: the whole blast radius, the crash's own domain, and causes
 * ranked above the symptoms they produce. Log lines are real kube-proxy lines (sources named).
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/cluster/kube-types.js';
import { diagnoseSource } from '../src/engine/engine.js';
import { bundlesDir } from './helpers/bundles.js';
import {
  BundleCopies,
  type BundleEdit,
  causeOf,
  diagnoseDir,
  findingOf,
  klogAt,
  n1,
  n2,
  n3,
} from './helpers/edit-bundle.js';
import { serve } from './helpers/live.js';

const copies = new BundleCopies();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await copies.cleanup();
  for (const c of cleanups.splice(0)) await c();
});

const collectedAt = Date.parse('2026-11-22T10:00:00Z');
const podsFile = 'namespaces/kube-system/pods.json';
const previousLog = 'logs/kube-system/kube-proxy-k2v9d/kube-proxy.previous.log';

/** Every kube-proxy pod takes the crash-looping status of kube-proxy-k2v9d. */
async function crashEverywhere(b: BundleEdit): Promise<void> {
  await b.json<{ items: Pod[] }>(podsFile, (doc) => {
    const broken = doc.items.find((p) => p.metadata.name === 'kube-proxy-k2v9d') as Pod;
    for (const p of doc.items)
      if (p.metadata.labels?.['k8s-app'] === 'kube-proxy') p.status = structuredClone(broken.status);
  });
}

async function crashWith(lines: string[]): Promise<string> {
  return copies.edit('kube-proxy-crashloop', (b) => b.write(previousLog, `${lines.join('\n')}\n`));
}

const at = (secondsAgo: number) => new Date(collectedAt - secondsAgo * 1000);

describe('blast radius (item 5)', () => {
  it('kube-proxy crash-looping on every node is the cluster-wide outage, CRITICAL, every node named', async () => {
    const d = await diagnoseDir(await copies.edit('kube-proxy-crashloop', crashEverywhere));
    expect(d.rootCause.category).toBe('pod_crash');
    expect(d.rootCause.nodes).toEqual([n1, n2, n3]);
    expect(d.severity).toBe('CRITICAL');
    expect(findingOf(d, 'kube-proxy.pods').summary).toBe(
      'kube-proxy CrashLoopBackOff on all nodes — cluster-wide service outage',
    );
    // A broken ConfigMap: fix it first, never a DaemonSet-wide restart that spreads it (item 6).
    expect(d.mitigation.immediate).toMatch(/^Fix the kube-proxy ConfigMap first/);
    expect(d.mitigation.actions.map((a) => a.id)).not.toContain('restart-kube-proxy');
    expect(d.mitigation.actions.every((a) => a.when.startsWith('after the ConfigMap is fixed'))).toBe(true);
  });

  it('live: a DaemonSet with unavailable pods makes the source read every kube-proxy pod, and only then', async () => {
    const s = await serve(path.join(bundlesDir, 'crashloop-all-nodes'));
    cleanups.push(s.stop);
    const target = { namespace: 'app', service: 'web-api', node: n2 };
    const d = await diagnoseSource(s.source(), { target });
    expect(d.rootCause.nodes).toEqual([n1, n2, n3]);
    expect(d.severity).toBe('CRITICAL');
    const everyKubeProxy = (r: { path: string; query: Record<string, string> }) =>
      r.path === '/api/v1/namespaces/kube-system/pods' && r.query.labelSelector === 'k8s-app=kube-proxy';
    expect(s.server.requests.filter(everyKubeProxy)).toHaveLength(1);
    const healthy = await serve(path.join(bundlesDir, 'healthy'));
    cleanups.push(healthy.stop);
    await diagnoseSource(healthy.source(), { target });
    expect(healthy.server.requests.filter(everyKubeProxy)).toHaveLength(0);
  });

  it('the same watch failure on other nodes is named too', async () => {
    const dir = await copies.edit('api-unauthorized', async (b) => {
      const lines: string[] = [];
      for (let t = 600; t > 5; t -= 57)
        lines.push(
          `${klogAt('W', at(t), 'reflector.go:547')} k8s.io/client-go/informers/factory.go:160: failed to list *v1.EndpointSlice: Unauthorized`,
          `${klogAt('E', at(t - 0.001), 'reflector.go:150')} k8s.io/client-go/informers/factory.go:160: Failed to watch *v1.EndpointSlice: failed to list *v1.EndpointSlice: Unauthorized`,
        );
      await b.append('logs/kube-system/kube-proxy-zr5hq/kube-proxy.log', lines);
    });
    const d = await diagnoseDir(dir);
    expect(d.rootCause.category).toBe('api_connectivity');
    expect(d.rootCause.nodes).toEqual([n2, n3]);
    expect(d.severity).toBe('HIGH');
  });

  it('the same xtables-lock failure on another node is named too (k3s-io/k3s#11098 lines)', async () => {
    const dir = await copies.edit('iptables-xtables-lock', async (b) => {
      const lines: string[] = [];
      for (let t = 600; t > 10; t -= 30)
        lines.push(
          `${klogAt('E', at(t), 'proxier.go:1552')} "Failed to execute iptables-restore" err=<`,
          '\texit status 4: Ignoring deprecated --wait-interval option.',
          "\tCan't lock /run/xtables.lock: Resource temporarily unavailable",
          '\tAnother app is currently holding the xtables lock. Stopped waiting after 5s.',
          ' >',
          `${klogAt('I', at(t - 0.001), 'proxier.go:810')} "Sync failed" retryingTime="30s"`,
          `${klogAt('I', at(t - 0.002), 'proxier.go:799')} "SyncProxyRules complete" elapsed="5.031207s"`,
        );
      await b.append('logs/kube-system/kube-proxy-zr5hq/kube-proxy.log', lines);
      // The last good sync on that node was before the failures began.
      await b.metrics(n3, {
        kubeproxy_sync_proxy_rules_last_timestamp_seconds: collectedAt / 1000 - 630,
        kubeproxy_sync_proxy_rules_iptables_restore_failures_total: lines.length / 7,
      });
    });
    const d = await diagnoseDir(dir);
    expect(d.rootCause.category).toBe('iptables_sync');
    expect(d.rootCause.nodes).toEqual([n2, n3]);
    expect(findingOf(d, 'kube-proxy.sync').nodes?.[n3]?.summary).toContain('xtables lock');
  });

  it('version skew names every node running the old image', async () => {
    const d = await diagnoseDir(await copies.edit('version-skew', async () => {}));
    expect(d.rootCause.category).toBe('version_skew');
    expect(d.rootCause.nodes).toEqual([n1, n2, n3]);
  });
});

describe("the crash's own reason decides the domain (item 6)", () => {
  it('IPVS unusable at start-up → ipvs_modules, still the first stop', async () => {
    // dyrnq/install-docker#24 (kube-proxy ≥ 1.26 exits instead of falling back to iptables).
    const d = await diagnoseDir(
      await crashWith([
        `${klogAt('I', at(211.2), 'server.go:872')} "Version info" version="v1.30.6-eks-ba0a3b4"`,
        `${klogAt('E', at(211.1), 'server.go:134')} "Error running ProxyServer" err="can't use the IPVS proxier: error getting ipset version, error: exit status 1"`,
        `${klogAt('E', at(211.1), 'run.go:72')} "command failed" err="can't use the IPVS proxier: error getting ipset version, error: exit status 1"`,
      ]),
    );
    expect(d.rootCause.category).toBe('ipvs_modules');
    expect(d.rootCause.nodes).toEqual([n2]);
    expect(d.stoppedAfter?.phase).toBe('Prerequisite: kube-proxy running');
    expect(d.rootCause.detail).toContain('IPVS is not usable');
    expect(d.mitigation.immediate).toContain('modprobe');
  });

  it('Unauthorized at start-up → api_connectivity', async () => {
    // minikube#5551: `Failed to list *v1.Service: Unauthorized`.
    const d = await diagnoseDir(
      await crashWith([
        `${klogAt('I', at(212), 'server.go:872')} "Version info" version="v1.30.6-eks-ba0a3b4"`,
        `${klogAt('E', at(211.5), 'reflector.go:150')} k8s.io/client-go/informers/factory.go:160: Failed to watch *v1.Service: failed to list *v1.Service: Unauthorized`,
        `${klogAt('E', at(211.4), 'reflector.go:150')} k8s.io/client-go/informers/factory.go:160: Failed to watch *v1.EndpointSlice: failed to list *v1.EndpointSlice: Unauthorized`,
      ]),
    );
    expect(d.rootCause.category).toBe('api_connectivity');
    expect(d.rootCause.nodes).toEqual([n2]);
    expect(d.mitigation.immediate).toContain('service account');
  });

  it('a malformed KubeProxyConfiguration stays pod_crash, ConfigMap first', async () => {
    const d = await diagnoseDir(await copies.edit('kube-proxy-crashloop', async () => {}));
    expect(d.rootCause.category).toBe('pod_crash');
    expect(d.mitigation.immediate).toMatch(/^Fix the kube-proxy ConfigMap first/);
    expect(d.mitigation.actions.map((a) => a.id)).toEqual(['delete-kube-proxy-pod']);
  });
});

describe('cause outranks symptom (item 7)', () => {
  it('kube-ipvs0 missing outranks the sync failures it causes', async () => {
    const dir = await copies.edit('ipvs-kube-ipvs0-missing', async (b) => {
      const lines: string[] = [];
      for (let t = 900; t > 10; t -= 30)
        lines.push(
          `${klogAt('E', at(t), 'proxier.go:1552')} "Failed to execute iptables-restore" err="exit status 1: iptables-restore: line 12 failed\\n"`,
        );
      await b.append('logs/kube-system/kube-proxy-k2v9d/kube-proxy.log', lines);
      await b.metrics(n2, {
        kubeproxy_sync_proxy_rules_last_timestamp_seconds: 0,
        kubeproxy_sync_proxy_rules_iptables_restore_failures_total: 30,
      });
    });
    const d = await diagnoseDir(dir);
    expect(d.rootCause.category).toBe('ipvs_modules');
    expect(causeOf(d, 'iptables_sync')?.detail).toContain('consequence of ipvs_modules');
  });
});
