/**
 * What the fault tests share: kproxy's worker identity (deploy/base's RBAC as-is, a token
 * the lab's apiserver issued), a small workload in its own namespace, and kproxy's real
 * live diagnosis as JSON.
 */
import { expect } from 'vitest';
import type { LabInfo } from './lab-global-setup.js';
import { admin, asList, eventually, kproxyCli, renderBase, serviceAccountKubeconfig } from './lab-helpers.js';

const rbacKinds = new Set([
  'Namespace',
  'ServiceAccount',
  'ClusterRole',
  'Role',
  'ClusterRoleBinding',
  'RoleBinding',
]);

export interface Finding {
  check: string;
  status: string;
  summary: string;
  evidence: string[];
  nodes?: Record<string, { status: string; summary: string }>;
}
export interface Diagnosis {
  rootCause: { category: string; detail: string; nodes: string[] };
  verdict: string;
  findings: Finding[];
  missing: { check: string; what: string; how: string }[];
  mitigation: { actions: unknown[] };
}

/** deploy/base's RBAC (its namespace, service accounts, roles and bindings) applied as-is. */
export async function applyBaseRbac(lab: LabInfo): Promise<void> {
  const rbac = (await renderBase()).filter((m) => rbacKinds.has(m.kind));
  await admin(lab, ['apply', '-f', '-'], asList(rbac));
}

/** deploy/base's RBAC applied as-is, and a kubeconfig with kproxy-worker's token. */
export async function workerKubeconfig(lab: LabInfo, file: string): Promise<string> {
  await applyBaseRbac(lab);
  return serviceAccountKubeconfig(lab, 'kproxy', 'kproxy-worker', file);
}

export interface WorkloadOptions {
  ns: string;
  name: string;
  labels: Record<string, string>;
  replicas?: number;
  /** The Service's selector (default: the pods' labels). */
  selector?: Record<string, string>;
  /** Extra pod-template labels that are not part of the Deployment's selector. */
  podLabels?: Record<string, string>;
}

/** A Deployment (agnhost serving on a named port) and its Service, as objects to apply. */
export function deploymentAndService(o: WorkloadOptions): unknown[] {
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: o.name, namespace: o.ns },
      spec: {
        replicas: o.replicas ?? 2,
        selector: { matchLabels: o.labels },
        template: {
          metadata: { labels: { ...o.labels, ...o.podLabels } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
                args: ['netexec', '--http-port=8080'],
                ports: [{ name: 'http', containerPort: 8080 }],
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: o.name, namespace: o.ns },
      spec: { selector: o.selector ?? o.labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    },
  ];
}

/** Pods matching `selector` in `ns` whose Ready condition is `ready`, once there are `count`. */
export async function podsWithReady(
  lab: LabInfo,
  ns: string,
  selector: string,
  ready: 'True' | 'False',
  count: number,
): Promise<string[]> {
  return eventually(`${count} pod(s) ${selector} with Ready=${ready} in ${ns}`, async () => {
    const out = await admin(lab, [
      'get',
      'pods',
      '-n',
      ns,
      '-l',
      selector,
      '-o',
      'jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
    ]);
    const rows = out.split('\n').filter(Boolean);
    const matching = rows.filter((r) => r.endsWith(` ${ready}`)).map((r) => r.split(' ')[0] as string);
    return rows.length === count && matching.length === count ? matching.sort() : undefined;
  });
}

/** The EndpointSlice controller's view of the Service: `ip ready` per endpoint. */
export async function sliceEndpoints(lab: LabInfo, ns: string, service: string): Promise<string[]> {
  const out = await admin(lab, [
    'get',
    'endpointslices',
    '-n',
    ns,
    '-l',
    `kubernetes.io/service-name=${service}`,
    '-o',
    'jsonpath={range .items[*].endpoints[*]}{.addresses[0]} {.conditions.ready}{"\\n"}{end}',
  ]);
  return out.split('\n').filter(Boolean).sort();
}

/** kproxy's live diagnosis, as an operator runs it; the CLI must succeed and print only JSON. */
export async function diagnoseLive(kubeconfig: string, args: string[]): Promise<Diagnosis> {
  const result = await kproxyCli([
    'diagnose',
    '--kubeconfig',
    kubeconfig,
    '--context',
    'lab',
    '--node-captures',
    'off',
    '--format',
    'json',
    ...args,
  ]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Diagnosis;
}

export const findingOf = (d: Diagnosis, check: string): Finding => {
  const f = d.findings.find((x) => x.check === check);
  if (!f) throw new Error(`no finding ${check} in the diagnosis`);
  return f;
};
