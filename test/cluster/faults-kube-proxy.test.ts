/**
 * Real kube-proxy faults, produced by breaking the lab's kube-proxy DaemonSet (each pod is
 * the real kube-proxy v1.34.4 in its node's network namespace) and diagnosed live by
 * kproxy with its worker token under deploy/base's RBAC, node captures by exec into the
 * kube-proxy pods. Each case puts kube-proxy back as the manifest has it (a fresh pod).
 * Needs root (network namespaces).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  deploymentAndService,
  diagnoseLive,
  findingOf,
  podsWithReady,
  sliceEndpoints,
  workerKubeconfig,
} from './fault-helpers.js';
import {
  apiGet,
  kubeProxyPid,
  kubeProxyPods,
  kubeProxyReadyEverywhere,
  programmedBackends,
  recreateKubeProxy,
  restoreKubeProxy,
} from './kube-proxy-helpers.js';
import { admin, asList, eventually } from './lab-helpers.js';
import { recordExample } from './record-example.js';

const lab = inject('lab');
const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
let tmp: string;
let worker: string;

async function workload(ns: string, replicas: number): Promise<void> {
  const objects = deploymentAndService({ ns, name: 'web', labels: { app: 'web' }, replicas });
  await admin(
    lab,
    ['apply', '-f', '-'],
    asList([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, ...objects]),
  );
  await podsWithReady(lab, ns, 'app=web', 'True', replicas);
  await eventually(`${replicas} ready endpoints of ${ns}/web`, async () => {
    const eps = await sliceEndpoints(lab, ns, 'web');
    return eps.length === replicas && eps.every((e) => e.endsWith(' true')) ? eps : undefined;
  });
}

const diagnose = (ns: string) => diagnoseLive(worker, ['--service', `${ns}/web`, '--node-captures', 'exec']);

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kproxy-cluster-kp-faults-'));
  worker = await workerKubeconfig(lab, path.join(tmp, 'worker.kubeconfig'));
  await kubeProxyReadyEverywhere(lab);
});

afterAll(async () => {
  for (const ns of ['fault-stale', 'fault-lock', 'fault-crash'])
    await admin(lab, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!isRoot)(
  'one node’s kube-proxy stopped (SIGSTOP), then a backend pod deleted (scaled down)',
  () => {
    const ns = 'fault-stale';
    const node = lab.nodeNames[1] ?? '';
    let pid = 0;

    beforeAll(async () => {
      await workload(ns, 3);
      // The node's kube-proxy has programmed all three before it stops.
      const ready = (await sliceEndpoints(lab, ns, 'web')).map((e) => `${e.split(' ')[0]}:8080`).sort();
      await eventually(`${node}'s rules for the 3 endpoints`, async () => {
        const b = await programmedBackends(lab, node, `${ns}/web:http`);
        return b.join() === ready.join() ? b : undefined;
      });
      pid = await kubeProxyPid(lab, node);
      // Stopped, not killed: the process (and its pod, Running) stays, its rules stay as they are.
      process.kill(pid, 'SIGSTOP');
      const before = await sliceEndpoints(lab, ns, 'web');
      // A backend pod deleted by scaling down, not replaced: a replacement scheduled on the same
      // node would get the freed address back (kwok's ipPool hands out released IPs first,
      // sigs.k8s.io/kwok pkg/kwok/controllers/utils.go ipPool.Get), and the stopped node's
      // rules would then be right by accident.
      await admin(lab, ['scale', '-n', ns, 'deployment/web', '--replicas=2']);
      await eventually('the EndpointSlice without the deleted pod', async () => {
        const eps = await sliceEndpoints(lab, ns, 'web');
        return eps.length === 2 && eps.every((e) => before.includes(e)) ? eps : undefined;
      });
    });

    afterAll(async () => {
      if (pid) process.kill(pid, 'SIGCONT');
      await recreateKubeProxy(lab, node).catch(() => undefined);
    });

    it(`stale_endpoints on ${node} only: its real rules still DNAT to the deleted pod`, async () => {
      const d = await diagnose(ns);
      expect(d.rootCause.category).toBe('stale_endpoints');
      expect(d.verdict).toBe('decisive');
      expect(d.rootCause.nodes).toEqual([node]);
      const rules = findingOf(d, 'dataplane.rules');
      expect(rules.status).toBe('fail');
      expect(rules.nodes?.[node]?.status).toBe('fail');
      expect(rules.nodes?.[node]?.summary).toMatch(
        /1 stale backend\(s\) 10\.244\.\d+\.\d+:8080 not in EndpointSlices/,
      );
      for (const other of lab.nodeNames.filter((n) => n !== node))
        expect(rules.nodes?.[other]?.status).toBe('pass');
      expect(rules.evidence.some((e) => e.startsWith(`${node}: iptables-save: -A KUBE-SEP-`))).toBe(true);
      await recordExample(worker, 'lab-stale-endpoints', ['--service', `${ns}/web`]);
    });
  },
);

describe.skipIf(!isRoot)('the xtables lock held on a node while the endpoints change', () => {
  const ns = 'fault-lock';
  const node = lab.nodes[0];
  let holder: ChildProcess | undefined;

  beforeAll(async () => {
    await workload(ns, 2);
    // iptables-legacy's lock: flock(2) on /run/xtables.lock, which is this file on that node.
    // --no-fork: the holder is flock's own process (sleep), so killing it frees the lock.
    holder = spawn('flock', ['--no-fork', path.join(node?.runDir ?? '', 'xtables.lock'), 'sleep', '900'], {
      stdio: 'ignore',
    });
    const lock = path.join(node?.runDir ?? '', 'xtables.lock');
    await eventually('flock to hold the lock', async () => {
      const free = await run('flock', ['--nonblock', lock, 'true']).then(
        () => true,
        () => false,
      );
      return free ? undefined : true;
    });
    await admin(lab, ['scale', 'deployment', 'web', '-n', ns, '--replicas=3']);
    await podsWithReady(lab, ns, 'app=web', 'True', 3);
    // kube-proxy answers 503 once a queued change waited 2 × syncPeriod (60 s) unsynced.
    await eventually(
      `healthz 503 from ${node?.name} through the node proxy`,
      async () => {
        const h = await apiGet(lab, `/api/v1/nodes/${node?.name}:10256/proxy/healthz`);
        return h.status === 503 && h.body.includes('"healthy":false') ? h : undefined;
      },
      240_000,
    );
  });

  afterAll(async () => {
    if (holder && holder.exitCode === null) {
      const gone = new Promise((r) => holder?.once('exit', r));
      holder.kill('SIGTERM');
      await gone;
    }
    if (node) await recreateKubeProxy(lab, node.name).catch(() => undefined);
  });

  it('iptables_sync on that node, naming the xtables lock, with healthz 503 read through the node proxy', async () => {
    const name = node?.name ?? '';
    const d = await diagnose(ns);
    expect(d.rootCause.category).toBe('iptables_sync');
    expect(d.verdict).toBe('decisive');
    expect(d.rootCause.nodes).toEqual([name]);
    expect(d.rootCause.detail).toMatch(new RegExp(`^xtables lock contention on ${name}: `));
    const sync = findingOf(d, 'kube-proxy.sync');
    expect(sync.status).toBe('fail');
    expect(sync.nodes?.[name]?.summary).toMatch(
      /failed sync\(s\) .*\(xtables lock held by another process\)/,
    );
    expect(sync.nodes?.[name]?.summary).toMatch(
      /healthz unhealthy: last successful sync \d+s before the check/,
    );
    // The real iptables-legacy message, from the real kube-proxy log.
    expect(
      sync.evidence.some((e) =>
        /"Failed to execute iptables-restore" err=.*Another app is currently holding the xtables lock/.test(
          e,
        ),
      ),
    ).toBe(true);
    expect(sync.evidence.some((e) => e.startsWith(`${name} healthz: lastUpdated=`))).toBe(true);
    await recordExample(worker, 'lab-iptables-xtables-lock', ['--service', `${ns}/web`]);
  });
});

describe.skipIf(!isRoot)('a broken kube-proxy ConfigMap (mode: iptabels) and the DaemonSet rolled', () => {
  const ns = 'fault-crash';

  beforeAll(async () => {
    await workload(ns, 2);
    const cm = JSON.parse(
      await admin(lab, ['get', 'configmap', 'kube-proxy', '-n', 'kube-system', '-o', 'json']),
    ) as { data: Record<string, string> };
    const broken = (cm.data['config.conf'] ?? '').replace('mode: iptables', 'mode: iptabels');
    expect(broken).toContain('mode: iptabels');
    await admin(lab, [
      'patch',
      'configmap',
      'kube-proxy',
      '-n',
      'kube-system',
      '--type=merge',
      '-p',
      JSON.stringify({ data: { 'config.conf': broken } }),
    ]);
    await admin(lab, ['rollout', 'restart', 'daemonset/kube-proxy', '-n', 'kube-system']);
    // Each new pod's process exits on the configuration; the lab's kubelet part backs off.
    await eventually('kube-proxy in CrashLoopBackOff on every node the rollout reached', async () => {
      const pods = await kubeProxyPods(lab);
      const crashing = pods.filter((p) => p.waiting === 'CrashLoopBackOff' && p.restartCount >= 1);
      return crashing.length === lab.nodeNames.length ? crashing : undefined;
    });
  });

  afterAll(async () => {
    await restoreKubeProxy(lab);
  });

  it('pod_crash on every node, quoting the real validation error from the previous log', async () => {
    const crashing = (await kubeProxyPods(lab)).filter((p) => p.waiting === 'CrashLoopBackOff');
    const d = await diagnose(ns);
    expect(d.rootCause.category).toBe('pod_crash');
    expect(d.verdict).toBe('decisive');
    expect([...d.rootCause.nodes].sort()).toEqual(crashing.map((p) => p.node).sort());
    expect([...d.rootCause.nodes].sort()).toEqual([...lab.nodeNames].sort());
    expect(d.rootCause.detail).toMatch(/previous log says malformed KubeProxyConfiguration/);
    const pods = findingOf(d, 'kube-proxy.pods');
    expect(pods.status).toBe('fail');
    expect(
      pods.evidence.some((e) =>
        /previous log: .*"command failed" err="failed validate: KubeProxyConfiguration\.Mode\.ProxyMode: Invalid value: \\"iptabels\\"/.test(
          e,
        ),
      ),
    ).toBe(true);
    // The restart count keeps growing with the back-off: the line, not its number.
    for (const p of crashing) {
      const line = new RegExp(
        `^Pod kube-system/${p.name} container kube-proxy: waiting CrashLoopBackOff; last terminated: Error \\(exit 1\\), restartCount=\\d+ \\(node ${p.node}\\)$`,
      );
      expect(
        pods.evidence.some((e) => line.test(e)),
        p.name,
      ).toBe(true);
    }
    await recordExample(worker, 'lab-crashloop-all-nodes', ['--service', `${ns}/web`]);
  });
});
