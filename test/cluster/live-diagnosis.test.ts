/**
 * kproxy's live diagnosis against a real control plane (the lab: kube-apiserver v1.34.4
 * with RBAC, controller-manager, scheduler, kwok nodes), reading with the token the
 * apiserver issued for kproxy's worker service account under deploy/base's RBAC as-is.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { admin, asList, eventually, kproxyCli, renderBase, serviceAccountKubeconfig } from './lab-helpers.js';

const lab = inject('lab');
const ns = 'conformance-healthy';
const rbacKinds = new Set([
  'Namespace',
  'ServiceAccount',
  'ClusterRole',
  'Role',
  'ClusterRoleBinding',
  'RoleBinding',
]);

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

interface Finding {
  check: string;
  status: string;
  summary: string;
  evidence: string[];
}
interface Diagnosis {
  rootCause: { category: string; detail: string };
  findings: Finding[];
}

let tmp: string;
let workerKubeconfig: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kproxy-cluster-test-'));
  const rbac = (await renderBase()).filter((m) => rbacKinds.has(m.kind));
  await admin(lab, ['apply', '-f', '-'], asList(rbac));
  workerKubeconfig = await serviceAccountKubeconfig(
    lab,
    'kproxy',
    'kproxy-worker',
    path.join(tmp, 'worker.kubeconfig'),
  );
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
    const who = await kproxyWhoami(workerKubeconfig);
    expect(who).toBe('system:serviceaccount:kproxy:kproxy-worker');
  });

  it('reads everything it needs: no check is unknown for lack of permission', async () => {
    const result = await kproxyCli([
      'diagnose',
      '--kubeconfig',
      workerKubeconfig,
      '--context',
      'lab',
      '--service',
      `${ns}/web`,
      '--node-captures',
      'off',
      '--format',
      'json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const diagnosis = JSON.parse(result.stdout) as Diagnosis;
    const byCheck = new Map(diagnosis.findings.map((f) => [f.check, f]));
    for (const f of diagnosis.findings) {
      const text = [f.summary, ...f.evidence].join('\n');
      expect(text, `${f.check} (${f.status})`).not.toMatch(/forbidden|RBAC: grant|Unauthorized/i);
    }
    expect(byCheck.get('service.shape')?.status).toBe('pass');
    expect(byCheck.get('endpoints.ready')?.status).toBe('pass');
    // Every `unknown` says why.
    for (const f of diagnosis.findings.filter((x) => x.status === 'unknown')) expect(f.summary).not.toBe('');
    console.log(
      JSON.stringify(diagnosis.rootCause),
      diagnosis.findings.map((f) => `${f.check}=${f.status}: ${f.summary}`),
    );
  });
});

async function kproxyWhoami(kubeconfig: string): Promise<string> {
  const { kubectl } = await import('../../lab/src/kubectl.js');
  const out = await kubectl(kubeconfig, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
  return out.trim();
}
