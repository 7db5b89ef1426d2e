/**
 * kproxy's live diagnosis against a real control plane (the lab: kube-apiserver v1.34.4
 * with RBAC, controller-manager, scheduler, kwok nodes, the real kube-proxy as kubeadm's
 * DaemonSet, CoreDNS), reading with the token the apiserver issued for kproxy's worker
 * service account under deploy/base's RBAC as-is.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Diagnosis, workerKubeconfig } from './fault-helpers.js';
import { admin, asList, eventually, kproxyCli } from './lab-helpers.js';

const lab = inject('lab');
const ns = 'conformance-healthy';

// A workload the restricted Pod Security level admits (the namespace enforces it).
const workload = [
  {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: ns },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'web',
              image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
              args: ['netexec', '--http-port=8080'],
              ports: [{ name: 'http', containerPort: 8080 }],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: ns },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  },
];

let tmp: string;
let worker: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kproxy-cluster-test-'));
  worker = await workerKubeconfig(lab, path.join(tmp, 'worker.kubeconfig'));
  await admin(lab, ['apply', '-f', '-'], asList(workload));
  // kwok runs the pods (Running, Ready); the EndpointSlice controller publishes them.
  await eventually('2 ready endpoints in the EndpointSlice of web', async () => {
    const out = await admin(lab, [
      'get',
      'endpointslices',
      '-n',
      ns,
      '-l',
      'kubernetes.io/service-name=web',
      '-o',
      'jsonpath={range .items[*].endpoints[*]}{.conditions.ready}{"\\n"}{end}',
    ]);
    return out.split('\n').filter((l) => l === 'true').length === 2 ? true : undefined;
  });
});

afterAll(async () => {
  await admin(lab, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('live diagnosis against the lab (real apiserver, deploy/base RBAC, worker token)', () => {
  it('the token is the worker service account as the real authenticator sees it', async () => {
    const who = await kproxyWhoami(worker);
    expect(who).toBe('system:serviceaccount:kproxy:kproxy-worker');
  });

  it('reads everything it needs: the same diagnosis as cluster-admin, no check unknown for lack of permission', async () => {
    const asWorker = await diagnose(worker);
    const asAdmin = await diagnose(lab.adminKubeconfig);
    const statuses = (d: Diagnosis) => d.findings.map((f) => `${f.check}=${f.status}`);
    expect(statuses(asWorker)).toEqual(statuses(asAdmin));
    for (const f of asWorker.findings) {
      const text = [f.summary, ...f.evidence].join('\n');
      expect(text, `${f.check} (${f.status})`).not.toMatch(/forbidden|RBAC: grant|Unauthorized/i);
    }
  });

  it('none, decisive, every check decided: kube-proxy pods, logs, healthz, metrics and rules read as the worker', async () => {
    const d = await diagnose(worker);
    expect(d.rootCause.category).toBe('none');
    expect(d.verdict).toBe('decisive');
    const status = Object.fromEntries(d.findings.map((f) => [f.check, f.status]));
    // The client's-eye probe is opt-in (`probe: debug-pod`) and off here: its `unknown` says so,
    // and is the only one (none for lack of permission or data).
    expect(d.findings.filter((f) => f.status === 'unknown').map((f) => `${f.check}: ${f.summary}`)).toEqual([
      expect.stringMatching(/^probe\.path: .*off for this cluster/),
    ]);
    expect(d.missing).toEqual([]);
    for (const check of [
      'service.shape',
      'endpoints.ready',
      'backend.pods',
      'nodes.conditions',
      'service.ports',
      'service.traffic-policy',
      'network-policy.ingress',
      // The real kube-proxy DaemonSet: pods, their logs (version, mode, API access),
      // healthz and metrics through the node proxy, iptables-save and the conntrack
      // sysctls by exec into each pod, i.e. in each node's network namespace.
      'kube-proxy.pods',
      'kube-proxy.version',
      'kube-proxy.mode',
      'kube-proxy.api',
      'kube-proxy.sync',
      'dataplane.rules',
      'node.conntrack',
      // kubeadm's CoreDNS Deployment and kube-dns Service, with ready endpoints.
      'dns.coredns',
    ]) {
      expect(status[check], check).toBe('pass');
    }
    // IPVS is not the mode; the lab runs no CNI agent DaemonSet to check.
    expect(status['kube-proxy.ipvs']).toBe('skip');
    expect(status['cni.agent']).toBe('skip');
    expect(d.mitigation.actions).toEqual([]);
  });
});

async function diagnose(kubeconfig: string): Promise<Diagnosis> {
  const result = await kproxyCli([
    'diagnose',
    '--kubeconfig',
    kubeconfig,
    '--context',
    'lab',
    '--service',
    `${ns}/web`,
    '--node-captures',
    'exec',
    '--format',
    'json',
  ]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Diagnosis;
}

async function kproxyWhoami(kubeconfig: string): Promise<string> {
  const { kubectl } = await import('../../lab/src/kubectl.js');
  const out = await kubectl(kubeconfig, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
  return out.trim();
}
