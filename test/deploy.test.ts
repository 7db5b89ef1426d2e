/**
 * The kustomize base (and its Redis overlay) rendered by `kubectl kustomize`, as a cluster
 * would receive it: the workloads' probes, resources and locked-down pods, the identities
 * and their RBAC, the Secret reference, and a configuration kproxy itself accepts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../src/config/config.js';

const run = promisify(execFile);

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

async function render(dir: string): Promise<Manifest[]> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as Manifest);
}

const byName = (all: Manifest[], kind: string, name: string) => {
  const found = all.find((m) => m.kind === kind && m.metadata.name.startsWith(name));
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
}
interface Container {
  name: string;
  command: string[];
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  envFrom?: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
}
interface PodSpec {
  serviceAccountName: string;
  automountServiceAccountToken?: boolean;
  securityContext?: { runAsNonRoot?: boolean };
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
}
const podOf = (d: Manifest) => (d.spec as { template: { spec: PodSpec } }).template.spec;

describe('deploy/base (kubectl kustomize)', () => {
  it('renders bot and worker Deployments with probes, resources, a non-root read-only filesystem and the Secret reference', async () => {
    const all = await render('deploy/base');
    const config = byName(all, 'ConfigMap', 'kproxy-config');
    for (const [name, command] of [
      ['kproxy-bot', 'dist/bot/main.js'],
      ['kproxy-worker', 'dist/workers/main.js'],
    ] as const) {
      const pod = podOf(byName(all, 'Deployment', name));
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      for (const c of pod.containers) {
        expect(c.command).toEqual(['node', command]);
        expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
        expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
        expect(c.resources?.requests?.memory).toBeDefined();
        expect(c.resources?.limits?.memory).toBeDefined();
        expect(c.securityContext).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.envFrom?.map((e) => e.secretRef?.name).filter(Boolean)).toEqual(['kproxy-secrets']);
      }
      // The generated (hash-suffixed) configuration is the one mounted.
      expect(pod.volumes?.find((v) => v.name === 'config')?.configMap?.name).toBe(config.metadata.name);
      expect(byName(all, 'PodDisruptionBudget', name).spec).toMatchObject({ minAvailable: 1 });
    }
    expect(all.some((m) => m.kind === 'Secret')).toBe(false);
    const bot = podOf(byName(all, 'Deployment', 'kproxy-bot'));
    expect(bot.serviceAccountName).toBe('kproxy-bot');
    expect(bot.automountServiceAccountToken).toBe(false);
    expect(podOf(byName(all, 'Deployment', 'kproxy-worker')).serviceAccountName).toBe('kproxy-worker');
    expect(byName(all, 'Service', 'kproxy-bot').spec).toMatchObject({
      ports: [{ port: 80, targetPort: 'http' }],
    });
  });

  it('ships a configuration that `kproxy config check` accepts, for the cluster kproxy runs in', async () => {
    const all = await render('deploy/base');
    const data = byName(all, 'ConfigMap', 'kproxy-config').data as Record<string, string>;
    const config = parseConfig(data['kproxy.yaml'] as string, 'kproxy.yaml');
    expect(config.clusters[0]).toMatchObject({ name: 'prod-east', inCluster: true });
    const env = byName(all, 'ConfigMap', 'kproxy-env').data as Record<string, string>;
    expect(env).toMatchObject({ KPROXY_CONFIG: '/config/kproxy.yaml', PORT: '3000' });
  });

  it('binds the worker to the read-only role and to exactly the writes of the actions', async () => {
    const all = await render('deploy/base');
    const rules = (kind: string, name: string) =>
      (byName(all, kind, name) as unknown as { rules: Rule[] }).rules;
    const reader = rules('ClusterRole', 'kproxy-reader');
    expect(reader.flatMap((r) => r.verbs).every((v) => v === 'get' || v === 'list')).toBe(true);
    const may = (set: Rule[], verb: string, resource: string, name?: string) =>
      set.some(
        (r) =>
          r.verbs.includes(verb) &&
          r.resources?.includes(resource) &&
          (!r.resourceNames || (name !== undefined && r.resourceNames.includes(name))),
      );
    const actions = rules('Role', 'kproxy-actions');
    const nodes = rules('ClusterRole', 'kproxy-actions-nodes');
    expect(may(actions, 'patch', 'daemonsets', 'kube-proxy')).toBe(true);
    expect(may(actions, 'delete', 'pods')).toBe(true);
    expect(may(actions, 'patch', 'configmaps', 'kube-proxy-config')).toBe(true);
    expect(may(actions, 'patch', 'configmaps', 'coredns')).toBe(false);
    expect(may(nodes, 'patch', 'nodes')).toBe(true);
    expect(may(nodes, 'create', 'pods/eviction')).toBe(true);
    expect(may([...actions, ...nodes], 'delete', 'nodes')).toBe(false);
    for (const binding of [
      'kproxy-reader',
      'kproxy-actions',
      'kproxy-actions-nodes',
      'kproxy-node-capture-exec',
    ]) {
      const b = all.find((m) => m.kind.endsWith('Binding') && m.metadata.name === binding) as unknown as {
        subjects: { name: string; namespace: string }[];
      };
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: 'kproxy-worker', namespace: 'kproxy' }]);
    }
    // Privileged debug pods and impersonation are opt-in: defined, never bound by the base.
    expect(all.some((m) => m.kind.endsWith('Binding') && m.metadata.name.includes('debug-pod'))).toBe(false);
    expect(all.some((m) => m.metadata.name === 'kproxy-impersonate-approvers')).toBe(false);
  });
});

describe('deploy/overlays/with-redis', () => {
  it('adds one Redis with AOF and noeviction at the address the pods use', async () => {
    const all = await render('deploy/overlays/with-redis');
    const redis = podOf(byName(all, 'StatefulSet', 'kproxy-redis'));
    const args = (redis.containers[0] as unknown as { args: string[] }).args.join(' ');
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--maxmemory-policy noeviction');
    expect(redis.securityContext?.runAsNonRoot).toBe(true);
    byName(all, 'Service', 'kproxy-redis');
    const env = byName(all, 'ConfigMap', 'kproxy-env').data as Record<string, string>;
    expect(env.REDIS_URL).toBe('redis://kproxy-redis.kproxy.svc:6379');
    expect(all.filter((m) => m.kind === 'Deployment')).toHaveLength(2);
  });
});
