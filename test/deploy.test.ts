/**
 * The kustomize base (and its Redis overlay) rendered by `kubectl kustomize`, as a cluster
 * would receive it: the workloads' probes, resources and locked-down pods, the identities
 * and their RBAC, the Secret reference, and a configuration kproxy itself accepts.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { envSchema, parseConfig } from '../src/config/config.js';
import { freePort } from './helpers/ports.js';
import { waitFor } from './helpers/stack.js';

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
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
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
  it('renders the bot, worker and action worker Deployments with probes, resources, a non-root read-only filesystem and the Secret reference', async () => {
    const all = await render('deploy/base');
    const config = byName(all, 'ConfigMap', 'kproxy-config');
    for (const [name, command] of [
      ['kproxy-bot', 'dist/bot/main.js'],
      ['kproxy-worker', 'dist/workers/main.js'],
      ['kproxy-action-worker', 'dist/workers/main.js'],
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
    expect(podOf(byName(all, 'Deployment', 'kproxy-action-worker')).serviceAccountName).toBe(
      'kproxy-actions',
    );
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

  it('binds the diagnosis worker to the read-only role and only the action worker to exactly the writes of the actions', async () => {
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
    // Two identities: the diagnosis workers read (and exec read-only captures); only the
    // action worker's identity holds the writes.
    const subjects = (binding: string) =>
      (
        all.find((m) => m.kind.endsWith('Binding') && m.metadata.name === binding) as unknown as {
          subjects: { name: string; namespace: string }[];
        }
      ).subjects;
    const sa = (name: string) => ({ kind: 'ServiceAccount', name, namespace: 'kproxy' });
    expect(subjects('kproxy-reader')).toEqual([sa('kproxy-worker'), sa('kproxy-actions')]);
    expect(subjects('kproxy-node-capture-exec')).toEqual([sa('kproxy-worker')]);
    expect(subjects('kproxy-actions')).toEqual([sa('kproxy-actions')]);
    expect(subjects('kproxy-actions-nodes')).toEqual([sa('kproxy-actions')]);
    // Privileged debug pods and impersonation are opt-in: defined, never bound by the base.
    expect(all.some((m) => m.kind.endsWith('Binding') && m.metadata.name.includes('debug-pod'))).toBe(false);
    expect(all.some((m) => m.metadata.name === 'kproxy-impersonate-approvers')).toBe(false);
  });

  it("runs approved actions only in the action worker, and kproxy accepts each worker's queue list", async () => {
    const all = await render('deploy/base');
    const queuesOf = (name: string) => {
      const value = podOf(byName(all, 'Deployment', name)).containers[0]?.env?.find(
        (e) => e.name === 'KPROXY_WORKER_QUEUES',
      )?.value;
      return envSchema.parse({ SLACK_BOT_TOKEN: 'xoxb-x', KPROXY_WORKER_QUEUES: value }).KPROXY_WORKER_QUEUES;
    };
    expect(queuesOf('kproxy-worker')).toEqual(['diagnose', 'pagerduty']);
    expect(queuesOf('kproxy-action-worker')).toEqual(['execute']);
  });
});

describe('deploy/overlays/with-redis', () => {
  it('adds one Redis with AOF, a password, maxmemory below its limit with noeviction, a headless governing Service and a NetworkPolicy', async () => {
    const kustomization = parse(await readFile('deploy/overlays/with-redis/kustomization.yaml', 'utf8'));
    expect(kustomization).not.toHaveProperty('bases');
    const all = await render('deploy/overlays/with-redis');
    const set = byName(all, 'StatefulSet', 'kproxy-redis');
    const redis = podOf(set);
    const container = redis.containers[0] as Container;
    const script = container.command.join(' ');
    expect(script).toContain('--appendonly yes');
    expect(script).toContain('--maxmemory-policy noeviction');
    const maxmemory = /--maxmemory (\d+)mb/.exec(script)?.[1];
    expect(Number(maxmemory) * 2 ** 20).toBeLessThan(bytes(container.resources?.limits?.memory));
    expect(container.env?.map((e) => [e.name, e.valueFrom?.secretKeyRef?.name])).toEqual([
      ['REDIS_PASSWORD', 'kproxy-redis-auth'],
      ['REDISCLI_AUTH', 'kproxy-redis-auth'],
    ]);
    expect(redis.securityContext?.runAsNonRoot).toBe(true);
    const service = byName(all, 'Service', 'kproxy-redis');
    expect((set.spec as { serviceName: string }).serviceName).toBe(service.metadata.name);
    expect(service.spec).toMatchObject({ clusterIP: 'None' });
    // Every kproxy pod connects with the password; the variable it expands is defined first.
    const deployments = all.filter((m) => m.kind === 'Deployment');
    expect(deployments).toHaveLength(3);
    for (const d of deployments) {
      const env = podOf(d).containers[0]?.env ?? [];
      const names = env.map((e) => e.name);
      expect(names.indexOf('REDIS_PASSWORD')).toBeLessThan(names.indexOf('REDIS_URL'));
      expect(env.find((e) => e.name === 'REDIS_URL')?.value).toBe(
        'redis://:$(REDIS_PASSWORD)@kproxy-redis.kproxy.svc:6379',
      );
    }
    const policy = byName(all, 'NetworkPolicy', 'kproxy-redis').spec as {
      podSelector: { matchLabels: Record<string, string> };
      policyTypes: string[];
      ingress: { from: { podSelector: { matchExpressions: { key: string; values: string[] }[] } }[] }[];
      egress: unknown[];
    };
    expect(policy.podSelector.matchLabels).toEqual(
      (set.spec as { selector: { matchLabels: unknown } }).selector.matchLabels,
    );
    expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.egress).toEqual([]);
    const components = policy.ingress[0]?.from[0]?.podSelector.matchExpressions.find(
      (e) => e.key === 'app.kubernetes.io/component',
    )?.values;
    const podComponents = deployments.map(
      (d) =>
        (d.metadata as unknown as { labels: Record<string, string> }).labels['app.kubernetes.io/component'],
    );
    expect([...(components ?? [])].sort()).toEqual([...podComponents].sort());
  });

  it("Redis's start command runs as written: the password from the environment (never in the process list), maxmemory and noeviction", async () => {
    const all = await render('deploy/overlays/with-redis');
    const container = podOf(byName(all, 'StatefulSet', 'kproxy-redis')).containers[0] as Container;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-redis-'));
    const port = await freePort();
    const password = randomBytes(16).toString('hex');
    const [shell, flag, script] = container.command as [string, string, string];
    const local = script.replace('--dir /data', `--dir ${dir} --port ${port} --bind 127.0.0.1`);
    const child = spawn(shell, [flag, local], {
      env: { PATH: process.env.PATH, REDIS_PASSWORD: password },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const authed = new Redis({ port, password, retryStrategy: () => 100 });
    const anonymous = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
    for (const client of [authed, anonymous]) client.on('error', () => undefined);
    try {
      await waitFor('redis-server answers', () =>
        authed.ping().then(
          () => true,
          () => false,
        ),
      );
      await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
      expect(await authed.config('GET', 'maxmemory')).toEqual(['maxmemory', String(300 * 2 ** 20)]);
      expect(await authed.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await authed.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      // `exec`: redis-server is the shell's process itself, and its arguments hold no password.
      const cmdline = await readFile(`/proc/${child.pid}/cmdline`, 'utf8');
      expect(cmdline).toContain('redis-server');
      expect(cmdline).not.toContain(password);
    } finally {
      anonymous.disconnect();
      authed.disconnect();
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function bytes(quantity: string | undefined): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity ?? '');
  if (!m) throw new Error(`unexpected quantity ${quantity}`);
  return Number(m[1]) * 2 ** (m[2] === 'Gi' ? 30 : 20);
}
