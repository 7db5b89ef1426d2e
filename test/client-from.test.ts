/**
 * The failing client (`--from NS/WORKLOAD`, Slack `from ns/name`): NetworkPolicy
 * evaluation is decisive for it, its node scopes the per-node checks, and the live path
 * reads what the bundle path reads.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommand } from '../src/bot/command.js';
import { runCli } from '../src/cli/run.js';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import type { Target } from '../src/cluster/view.js';
import type { Diagnosis } from '../src/engine/diagnosis.js';
import { diagnoseSource } from '../src/engine/engine.js';
import { diagnoseJobSchema, jobTarget, keys, targetLabel } from '../src/queue/jobs.js';
import { copyExample } from './helpers/bundles.js';
import { serve } from './helpers/live.js';

const n1 = 'ip-10-0-1-23.ec2.internal';
const n3 = 'ip-10-0-3-67.ec2.internal';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const policy = (name: string, namespace: string, spec: Record<string, unknown>) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec,
});

const clientPod = (
  name: string,
  namespace: string,
  labels: Record<string, string>,
  node: string,
  ip: string,
) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels },
  spec: {
    nodeName: node,
    containers: [{ name: 'main', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53' }],
  },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
});

const list = (kind: string, items: unknown[]) =>
  `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: items.map((i) => ({ kind, ...(i as object) })) }, null, 2)}\n`;

/**
 * The healthy example (app/web-api on three nodes) with no target node, an ingress policy
 * admitting only `role=frontend` pods of app and namespaces labelled `team=web`, a
 * `frontend` Deployment (admitted), a `batch` Deployment on another node (denied), and
 * namespace `jobs` whose egress is denied by default.
 */
async function policyBundle(opts: { namespaces?: boolean } = {}): Promise<string> {
  const copy = await copyExample('healthy');
  cleanups.push(copy.cleanup);
  const dir = copy.dir;
  const manifest = JSON.parse(await readFile(path.join(dir, 'bundle.json'), 'utf8'));
  manifest.target = { namespace: 'app', service: 'web-api' };
  await writeFile(path.join(dir, 'bundle.json'), JSON.stringify(manifest));
  const app = path.join(dir, 'namespaces', 'app');
  const pods = JSON.parse(await readFile(path.join(app, 'pods.json'), 'utf8'));
  pods.items.push(
    clientPod('frontend-6b7c9-aaaaa', 'app', { role: 'frontend', app: 'frontend' }, n1, '10.0.1.140'),
    clientPod('batch-5f6d8-bbbbb', 'app', { app: 'batch' }, n3, '10.0.3.150'),
  );
  await writeFile(path.join(app, 'pods.json'), JSON.stringify(pods));
  await writeFile(
    path.join(app, 'deployments.json'),
    list('Deployment', [
      {
        apiVersion: 'apps/v1',
        metadata: { name: 'frontend', namespace: 'app' },
        spec: { selector: { matchLabels: { app: 'frontend' } } },
      },
      {
        apiVersion: 'apps/v1',
        metadata: { name: 'batch', namespace: 'app' },
        spec: { selector: { matchLabels: { app: 'batch' } } },
      },
    ]),
  );
  await writeFile(
    path.join(app, 'networkpolicies.json'),
    list('NetworkPolicy', [
      policy('web-api-ingress', 'app', {
        podSelector: { matchLabels: { app: 'web-api' } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              { podSelector: { matchLabels: { role: 'frontend' } } },
              { namespaceSelector: { matchLabels: { team: 'web' } } },
            ],
            ports: [{ port: 8080, protocol: 'TCP' }],
          },
        ],
      }),
    ]),
  );
  const jobs = path.join(dir, 'namespaces', 'jobs');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(jobs, { recursive: true });
  await writeFile(
    path.join(jobs, 'pods.json'),
    list('Pod', [clientPod('report-0', 'jobs', { app: 'report' }, n1, '10.0.1.160')]),
  );
  await writeFile(
    path.join(jobs, 'networkpolicies.json'),
    list('NetworkPolicy', [
      policy('default-deny-egress', 'jobs', { podSelector: {}, policyTypes: ['Egress'] }),
    ]),
  );
  const web = path.join(dir, 'namespaces', 'web');
  await mkdir(web, { recursive: true });
  await writeFile(
    path.join(web, 'pods.json'),
    list('Pod', [clientPod('shop-0', 'web', { app: 'shop' }, n1, '10.0.1.170')]),
  );
  await writeFile(path.join(web, 'networkpolicies.json'), list('NetworkPolicy', []));
  if (opts.namespaces !== false)
    await writeFile(
      path.join(dir, 'namespaces.json'),
      list('Namespace', [
        { apiVersion: 'v1', metadata: { name: 'app', labels: { 'kubernetes.io/metadata.name': 'app' } } },
        { apiVersion: 'v1', metadata: { name: 'jobs', labels: { 'kubernetes.io/metadata.name': 'jobs' } } },
        {
          apiVersion: 'v1',
          metadata: { name: 'web', labels: { 'kubernetes.io/metadata.name': 'web', team: 'web' } },
        },
      ]),
    );
  return dir;
}

const webApi = (from?: string): Target => {
  const [namespace, name] = from?.split('/') ?? [];
  return {
    namespace: 'app',
    service: 'web-api',
    ...(namespace && name ? { from: { namespace, name } } : {}),
  };
};
const diagnoseFrom = async (dir: string, from?: string) =>
  await diagnoseSource(new BundleSource(dir), { target: webApi(from) });
const finding = (d: Diagnosis, check: string) => {
  const f = d.findings.find((x) => x.check === check);
  if (!f) throw new Error(`no finding ${check}`);
  return f;
};

describe('--from: NetworkPolicy evaluation for the named client', () => {
  it('a denied Deployment: the policy that denies it and the peers it admits, decisive', async () => {
    const d = await diagnoseFrom(await policyBundle(), 'app/batch');
    const f = finding(d, 'network-policy.ingress');
    expect(f.status).toBe('fail');
    expect(f.summary).toContain(
      'NetworkPolicy app/web-api-ingress denies Deployment app/batch → app/web-api',
    );
    expect(f.summary).toContain(
      'it admits only pods {role=frontend} in app; all pods in namespaces {team=web}',
    );
    expect(d.rootCause.category).toBe('network_policy');
  });

  it('an admitted Deployment passes, naming the rule that admits it', async () => {
    const d = await diagnoseFrom(await policyBundle(), 'app/frontend');
    const f = finding(d, 'network-policy.ingress');
    expect(f.status).toBe('pass');
    expect(f.evidence.join('\n')).toContain(
      'NetworkPolicy app/web-api-ingress ingress[0]: pods {role=frontend} in app',
    );
  });

  it('a namespaceSelector peer is decided by the client namespace labels (unknown without them)', async () => {
    expect(
      finding(await diagnoseFrom(await policyBundle(), 'web/shop-0'), 'network-policy.ingress').status,
    ).toBe('pass');
    const unknown = finding(
      await diagnoseFrom(await policyBundle({ namespaces: false }), 'web/shop-0'),
      'network-policy.ingress',
    );
    expect(unknown.status).toBe('unknown');
    expect(unknown.summary).toContain('labels of namespace web');
  });

  it("the client's own egress policy denies it", async () => {
    const f = finding(await diagnoseFrom(await policyBundle(), 'jobs/report-0'), 'network-policy.ingress');
    expect(f.status).toBe('fail');
    expect(f.summary).toContain('NetworkPolicy jobs/default-deny-egress');
  });

  it('an unknown client is unknown, naming what was looked for', async () => {
    const f = finding(await diagnoseFrom(await policyBundle(), 'app/nope'), 'network-policy.ingress');
    expect(f.status).toBe('unknown');
    expect(f.summary).toContain('client app/nope not found: no Pod, Deployment, StatefulSet or DaemonSet');
  });

  it('without a client, a restricting policy is reported with the peers it admits', async () => {
    const f = finding(await diagnoseFrom(await policyBundle()), 'network-policy.ingress');
    expect(f.status).toBe('warn');
    expect(f.summary).toContain('only from pods {role=frontend} in app; all pods in namespaces {team=web}');
  });

  it("the client's node scopes the per-node checks when --node is not given", async () => {
    const dir = await policyBundle();
    const d = await diagnoseFrom(dir, 'app/batch');
    expect(Object.keys(finding(d, 'dataplane.rules').nodes ?? {})).toEqual([n3]);
    const without = await diagnoseFrom(dir);
    expect(Object.keys(finding(without, 'dataplane.rules').nodes ?? {}).length).toBe(3);
  });
});

describe('--from on every path', () => {
  async function cli(...argv: string[]) {
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (c) => (stdout += c));
    err.on('data', (c) => (stderr += c));
    const code = await runCli(argv, { stdout: out, stderr: err, env: {} });
    return { code, stdout, stderr };
  }

  it('CLI: diagnose --from, and a malformed --from is one clear line', async () => {
    const dir = await policyBundle();
    const ok = await cli('diagnose', '--bundle', dir, '--from', 'app/batch', '--format', 'json');
    expect(ok.code).toBe(0);
    const json = JSON.parse(ok.stdout) as Diagnosis;
    expect(json.rootCause.category).toBe('network_policy');
    const bad = await cli('diagnose', '--bundle', dir, '--from', 'batch');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('--from "batch": must be NAMESPACE/NAME');
  });

  it('Slack: diagnose <cluster> ns/svc from ns/name, refused without a Service', () => {
    expect(
      parseCommand('diagnose prod-east app/web-api from app/batch --node ip-10-0-3-67.ec2.internal'),
    ).toEqual({
      ok: true,
      command: {
        kind: 'diagnose',
        cluster: 'prod-east',
        namespace: 'app',
        service: 'web-api',
        node: n3,
        from: 'app/batch',
      },
    });
    const refused = parseCommand('diagnose prod-east from app/batch');
    expect(refused.ok).toBe(false);
    expect(parseCommand('diagnose prod-east app/web-api from batch').ok).toBe(false);
  });

  it('queue: the job carries the client; its own running slot and label', () => {
    const target = { namespace: 'app', service: 'web-api', from: 'app/batch' };
    expect(diagnoseJobSchema.shape.target.parse(target)).toEqual(target);
    expect(jobTarget(target).from).toEqual({ namespace: 'app', name: 'batch' });
    expect(keys.running('prod-east', target)).not.toBe(
      keys.running('prod-east', { namespace: 'app', service: 'web-api' }),
    );
    expect(targetLabel('prod-east', target)).toBe('app/web-api from app/batch on prod-east');
  });

  it('live: the client is read through the API and gives the bundle verdict; captures come from its node', async () => {
    const dir = await policyBundle();
    const served = await serve(dir);
    cleanups.push(served.stop);
    const bundle = await diagnoseFrom(dir, 'app/batch');
    const live = await diagnoseSource(served.source({ nodeCaptures: 'exec' }), {
      target: webApi('app/batch'),
    });
    expect(finding(live, 'network-policy.ingress').summary).toBe(
      finding(bundle, 'network-policy.ingress').summary,
    );
    const paths = served.server.requests.map((r) => `${r.method} ${r.path}`);
    expect(paths).toContain('GET /apis/apps/v1/namespaces/app/deployments/batch');
    expect(paths).toContain('GET /api/v1/namespaces/app');
    expect(Object.keys(finding(live, 'dataplane.rules').nodes ?? {})).toEqual([n3]);
    expect(finding(live, 'dataplane.rules').status).toBe('pass');
    const { bundle: collected } = await served
      .source({ nodeCaptures: 'off' })
      .collect({ target: webApi('app/batch') });
    expect(
      JSON.parse((collected.entries.get('bundle.json') as { content: string }).content).target.from,
    ).toBe('app/batch');
  });
});
