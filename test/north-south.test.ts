/**
 * North-south (issue 18 §4, runbook 004): Ingress and HTTPRoute targets, their backends,
 * the ingress controller, LoadBalancer provisioning and AWS TargetGroupBindings — from
 * bundles, the CLI, the Slack command, and live through the test API server.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseCommand } from '../src/bot/command.js';
import { deriveFacts } from '../src/checks/lib/facts.js';
import { targetGroups } from '../src/checks/target-groups.js';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import { writeBundle } from '../src/cluster/bundle/write.js';
import { collected } from '../src/cluster/collected.js';
import { diagnoseSource } from '../src/engine/engine.js';
import { jobTarget } from '../src/queue/jobs.js';
import { bundlesDir } from './helpers/bundles.js';
import { cli } from './helpers/cli.js';
import { BundleCopies, diagnoseDir, findingOf, n2 } from './helpers/edit-bundle.js';
import { type Served, serve } from './helpers/live.js';
import { deployGrants } from './helpers/rbac.js';

const run = promisify(execFile);
type Doc = { items: Record<string, unknown>[] } & Record<string, unknown>;
/** The parts of an Ingress the tests edit. */
interface IngressDoc {
  spec: {
    ingressClassName?: string;
    rules: {
      http: {
        paths: { path?: string; pathType?: string; backend: { service: { name: string; port: unknown } } }[];
      };
    }[];
  };
}
type IngressPathDoc = IngressDoc['spec']['rules'][number]['http']['paths'][number];
const pathsOf = (ing: IngressDoc) => (ing.spec.rules[0] as IngressDoc['spec']['rules'][number]).http;
const pathAt = (ing: IngressDoc, i: number) => pathsOf(ing).paths[i] as IngressPathDoc;
interface PodDoc {
  metadata: Record<string, unknown>;
  spec: { containers: { name: string }[] };
  status: { containerStatuses: { name: string }[] };
}
const copies = new BundleCopies();
const running: Served[] = [];
const temp: string[] = [];
afterAll(() => copies.cleanup());
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
  for (const d of temp.splice(0)) await rm(d, { recursive: true, force: true });
});

const example = (name: string) => path.join(bundlesDir, name);
const ingressTarget = { kind: 'Ingress' as const, namespace: 'app', name: 'web-api' };
const statuses = (d: Awaited<ReturnType<typeof diagnoseDir>>) =>
  Object.fromEntries(d.findings.map((f) => [f.check, f.status]));

/** The Ingress of a bundle being edited. */
const editIngressIn = (
  b: { json: <T>(rel: string, edit: (doc: T) => void) => Promise<void> },
  edit: (ingress: IngressDoc) => void,
) => b.json<Doc>('namespaces/app/ingresses.json', (doc) => edit(doc.items[0] as unknown as IngressDoc));

/** The Ingress of an example bundle, edited. */
function editIngress(name: string, edit: (ingress: IngressDoc) => void) {
  return copies.edit(name, (b) =>
    b.json<Doc>('namespaces/app/ingresses.json', (doc) => edit(doc.items[0] as unknown as IngressDoc)),
  );
}

describe('Ingress backends', () => {
  it('a port name the Service does not define is a broken backend, quoting the Service ports', async () => {
    const dir = await editIngress('ingress-backend-no-endpoints', (ing) => {
      pathsOf(ing).paths = [
        { path: '/', pathType: 'Prefix', backend: { service: { name: 'web-api', port: { name: 'web' } } } },
      ];
    });
    const d = await diagnoseDir(dir);
    expect(d.rootCause.category).toBe('ingress');
    expect(findingOf(d, 'ingress.backends').evidence.join('\n')).toContain(
      'port.name "web" is not a port of Service app/web-api (its ports: http 80/TCP)',
    );
  });

  it('a backend Service that does not exist is named', async () => {
    const dir = await editIngress('ingress-backend-no-endpoints', (ing) => {
      pathAt(ing, 1).backend.service.name = 'web-api-v3';
    });
    const d = await diagnoseDir(dir);
    expect(d.rootCause.category).toBe('ingress');
    expect(d.rootCause.detail).toContain('Service app/web-api-v3 does not exist');
  });

  it('the first backend missing: the route is the cause, said from where the traffic comes, not a bare missing Service', async () => {
    const dir = await editIngress('ingress-backend-port-mismatch', (ing) => {
      pathAt(ing, 0).backend.service = { name: 'web-api-v3', port: { number: 80 } };
    });
    const d = await diagnoseDir(dir);
    expect(d.target).toMatchObject({ route: 'Ingress app/web-api', service: 'web-api-v3' });
    expect(d.rootCause).toEqual({
      category: 'ingress',
      detail:
        'Ingress app/web-api rules[0] (api.example.com).http.paths[0] /: backend Service web-api-v3, port 80: Service app/web-api-v3 does not exist',
      nodes: [],
    });
    expect(d.stoppedAfter).toEqual({ phase: 'Service', reason: 'service_config found' });
  });

  it('an Ingress the bundle does not hold is a bad target, named in one line', async () => {
    await expect(
      diagnoseSource(new BundleSource(example('ingress-backend-port-mismatch')), {
        target: { route: { ...ingressTarget, name: 'nope' } },
      }),
    ).rejects.toThrow(/^ingress app\/nope not found$/);
  });

  it('unreadable Services make the backends unknown, and the diagnosis says what to collect', async () => {
    const dir = await copies.edit('ingress-backend-port-mismatch', async (b) => {
      await b.json<Record<string, unknown>>('bundle.json', (m) => {
        m.notCollected = {
          'namespaces/app/ingresses.json': 'forbidden: get ingresses.networking.k8s.io in app',
        };
      });
      await rm(b.file('namespaces/app/ingresses.json'));
    });
    const d = await diagnoseDir(dir);
    const f = findingOf(d, 'ingress.backends');
    expect(f.status).toBe('unknown');
    expect(f.summary).toContain('forbidden: get ingresses.networking.k8s.io in app');
    expect(d.missing.map((m) => m.check)).toContain('ingress.backends');
  });

  it('an HTTPRoute target checks its Service backendRefs; its Gateway controller is unknown, never guessed', async () => {
    const dir = await copies.edit('ingress-backend-port-mismatch', async (b) => {
      await b.write(
        'namespaces/app/httproutes.json',
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: [
            {
              apiVersion: 'gateway.networking.k8s.io/v1',
              kind: 'HTTPRoute',
              metadata: { name: 'web', namespace: 'app' },
              spec: {
                parentRefs: [{ name: 'public', namespace: 'gateways' }],
                rules: [
                  {
                    backendRefs: [
                      { name: 'web-api', port: 80 },
                      { name: 'web-api', port: 81 },
                    ],
                  },
                ],
              },
            },
          ],
        }),
      );
      await b.json<Record<string, unknown>>('bundle.json', (m) => {
        m.target = { node: n2, route: { kind: 'HTTPRoute', namespace: 'app', name: 'web' } };
      });
    });
    const d = await diagnoseDir(dir);
    expect(d.target.route).toBe('HTTPRoute app/web');
    expect(d.target.service).toBe('web-api');
    expect(findingOf(d, 'ingress.backends').evidence.join('\n')).toContain(
      'HTTPRoute app/web rules[0].backendRefs[1]: backend Service web-api, port 81: port.number 81 is not a port',
    );
    expect(findingOf(d, 'ingress.controller').status).toBe('unknown');
  });
});

describe('the ingress controller', () => {
  it('IngressClasses not collected: unknown, naming why', async () => {
    const dir = await copies.edit('ingress-controller-crashloop', (b) => rm(b.file('ingressclasses.json')));
    const f = findingOf(await diagnoseDir(dir), 'ingress.controller');
    expect(f.status).toBe('unknown');
    expect(f.summary).toContain('not collected: ingressclasses.json');
  });

  it('a class with no IngressClass object: nothing serves the Ingress', async () => {
    const dir = await editIngress('ingress-controller-crashloop', (ing) => {
      ing.spec.ingressClassName = 'nginx-internal';
    });
    const d = await diagnoseDir(dir);
    const f = findingOf(d, 'ingress.controller');
    expect(f.status).toBe('fail');
    expect(f.summary).toBe('IngressClass nginx-internal does not exist: no controller serves this Ingress');
    expect(d.rootCause).toMatchObject({ category: 'ingress', detail: f.summary });
    expect(d.mitigation.immediate).toMatch(
      /^Fix the ingress controller, not kube-proxy: IngressClass nginx-internal/,
    );
  });

  it("the controller's own LoadBalancer Service without an address: nothing outside reaches it", async () => {
    const dir = await copies.edit('ingress-backend-no-endpoints', async (b) => {
      await b.json<Doc>('controller-services.json', (doc) => {
        (doc.items[0] as Record<string, unknown>).status = { loadBalancer: {} };
      });
      await editIngressIn(b, (ing) => {
        pathsOf(ing).paths = [pathAt(ing, 0)];
      });
    });
    const d = await diagnoseDir(dir);
    expect(d.rootCause).toMatchObject({
      category: 'load_balancer',
      detail:
        "the ingress-nginx controller's LoadBalancer Service ingress-nginx/ingress-nginx-controller has no address: nothing outside the cluster reaches the controller",
    });
    const s = await serve(dir, {
      rbac: deployGrants('kproxy-reader', 'kproxy-reader-kube-system', 'kproxy-reader-nodes-proxy'),
    });
    running.push(s);
    const live = await diagnoseSource(s.source({ nodeCaptures: 'off' }), {
      target: { route: ingressTarget, node: n2 },
    });
    expect(live.rootCause).toEqual(d.rootCause);
    expect(s.server.requests.find((r) => r.path === '/api/v1/services')?.status).toBe(200);
  });

  it('recent errors in a healthy controller log warn with the line quoted', async () => {
    const dir = await copies.edit('ingress-backend-no-endpoints', (b) =>
      b.append('logs/ingress-nginx/ingress-nginx-controller-6f8d7c9b5-7xk2p/controller.log', [
        'E1122 09:52:10.101010       7 store.go:1000] "Error getting Service" err="service \\"app/web-api-v3\\" not found"',
      ]),
    );
    const f = findingOf(await diagnoseDir(dir), 'ingress.controller');
    expect(f.status).toBe('warn');
    expect(f.evidence.join('\n')).toContain('"Error getting Service"');
  });
});

describe('LoadBalancer and target groups', () => {
  it('a provisioned load balancer passes; a pending one quotes its Warning events', async () => {
    const provisioned = await copies.edit('lb-pending', (b) =>
      b.json<Doc>('namespaces/app/services.json', (doc) => {
        (doc.items[0] as Record<string, unknown>).status = {
          loadBalancer: { ingress: [{ hostname: 'k8s-app-webapi-1.elb.us-east-1.amazonaws.com' }] },
        };
      }),
    );
    expect(findingOf(await diagnoseDir(provisioned), 'service.load-balancer').status).toBe('pass');
    const failing = await copies.edit('lb-pending', async (b) => {
      await b.json<Doc>('namespaces/app/services.json', (doc) => {
        delete ((doc.items[0] as Record<string, unknown>).spec as Record<string, unknown>).loadBalancerClass;
      });
      await b.json<Doc>('namespaces/app/events.json', (doc) => {
        doc.items.push({
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: 'web-api.1', namespace: 'app' },
          involvedObject: { kind: 'Service', name: 'web-api', namespace: 'app' },
          type: 'Warning',
          reason: 'SyncLoadBalancerFailed',
          message:
            'Error syncing load balancer: failed to ensure load balancer: could not find any suitable subnets for creating the ELB',
          count: 12,
          lastTimestamp: '2026-11-22T09:58:00Z',
        });
      });
    });
    const d = await diagnoseDir(failing);
    expect(d.rootCause.category).toBe('load_balancer');
    expect(d.rootCause.detail).toContain('SyncLoadBalancerFailed (x12): Error syncing load balancer');
  });

  it('an ALB Ingress: a TargetGroupBinding to a port the Service lacks fails; without the CRD it is unknown', async () => {
    const alb = async (b: Parameters<Parameters<BundleCopies['edit']>[1]>[0]) => {
      await b.json<Doc>('namespaces/app/ingresses.json', (doc) => {
        const ing = doc.items[0] as unknown as IngressDoc;
        ing.spec.ingressClassName = 'alb';
        pathAt(ing, 0).backend.service.port = {
          name: 'http',
        };
      });
      // The AWS Load Balancer Controller runs (its chart's pod label and container name).
      await b.json<Doc>('controller-pods.json', (doc) => {
        const pod = structuredClone(doc.items[0]) as unknown as PodDoc;
        pod.metadata = {
          ...pod.metadata,
          name: 'aws-load-balancer-controller-7d9c8b6f4-x8k2m',
          namespace: 'kube-system',
          labels: { 'app.kubernetes.io/name': 'aws-load-balancer-controller' },
        };
        (pod.spec.containers[0] as { name: string }).name = 'aws-load-balancer-controller';
        (pod.status.containerStatuses[0] as { name: string }).name = 'aws-load-balancer-controller';
        doc.items.push(pod as unknown as Record<string, unknown>);
      });
    };
    const dir = await copies.edit('ingress-backend-port-mismatch', async (b) => {
      await alb(b);
      await b.json<Doc>('namespaces/app/targetgroupbindings.json', (doc) => {
        doc.items.push({
          apiVersion: 'elbv2.k8s.aws/v1beta1',
          kind: 'TargetGroupBinding',
          metadata: { name: 'k8s-app-webapi-3c1d2e4f5a', namespace: 'app' },
          spec: {
            serviceRef: { name: 'web-api', port: 8080 },
            targetGroupARN:
              'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/k8s-app-webapi-3c1d2e4f5a/0123456789abcdef',
            targetType: 'ip',
          },
        });
      });
    });
    const d = await diagnoseDir(dir);
    expect(d.rootCause.category).toBe('load_balancer');
    expect(findingOf(d, 'aws.target-groups').evidence.join('\n')).toContain(
      'serviceRef web-api:8080 → arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/k8s-app-webapi-3c1d2e4f5a/0123456789abcdef: not a port of Service web-api',
    );
    // Pods with the target-health readiness gate mirror the ELB's verdict (a False gate keeps
    // the pod NotReady, as the kubelet does: ReadinessGatesNotReady): the unhealthy target is quoted.
    const tgb = 'k8s-app-webapi-3c1d2e4f5a';
    const gated = await copies.edit('ingress-backend-port-mismatch', async (b) => {
      await alb(b);
      await b.json<Doc>('namespaces/app/targetgroupbindings.json', (doc) => {
        doc.items.push({
          apiVersion: 'elbv2.k8s.aws/v1beta1',
          kind: 'TargetGroupBinding',
          metadata: { name: tgb, namespace: 'app' },
          spec: {
            serviceRef: { name: 'web-api', port: 80 },
            targetGroupARN:
              'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/k8s-app-webapi-3c1d2e4f5a/0123456789abcdef',
            targetType: 'ip',
          },
        });
      });
    });
    const view = await new BundleSource(gated).load();
    const gate = `target-health.elbv2.k8s.aws/${tgb}`;
    const pods = (view.namespacePods.state === 'collected' ? view.namespacePods.value : []).map((p, i) => ({
      ...p,
      spec: { ...p.spec, readinessGates: [{ conditionType: gate }] },
      status: {
        ...p.status,
        conditions: [
          ...(p.status?.conditions ?? []).filter((c) => c.type !== 'Ready'),
          i === 0
            ? {
                type: 'Ready',
                status: 'False',
                reason: 'ReadinessGatesNotReady',
                message: `the status of pod readiness gate "${gate}" is not "True", but False`,
              }
            : { type: 'Ready', status: 'True' },
          i === 0
            ? {
                type: gate,
                status: 'False',
                reason: 'Target.FailedHealthChecks',
                message: 'Health checks failed',
              }
            : { type: gate, status: 'True' },
        ],
      },
    }));
    const withHealth = { ...view, namespacePods: collected(pods) };
    const health = targetGroups.run(withHealth, deriveFacts(withHealth));
    expect(health.status).toBe('fail');
    expect(health.suspect?.category).toBe('load_balancer');
    expect(health.suspect?.detail).toContain('1 of 3 target(s) unhealthy');
    expect(health.suspect?.detail).toContain('Target.FailedHealthChecks: Health checks failed');
    expect(findingOf(await diagnoseDir(gated), 'aws.target-groups').summary).toContain(
      `target health unknown for ${tgb} (no target-health.elbv2.k8s.aws readiness gate on the pods`,
    );
    // The controller runs but cannot build the ALB: its Warning event on the Ingress decides.
    const undeployable = await copies.edit('ingress-backend-port-mismatch', async (b) => {
      await alb(b);
      await b.json<Doc>('namespaces/app/events.json', (doc) => {
        doc.items.push({
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: 'web-api.187a3c2b9d', namespace: 'app' },
          involvedObject: {
            apiVersion: 'networking.k8s.io/v1',
            kind: 'Ingress',
            name: 'web-api',
            namespace: 'app',
          },
          type: 'Warning',
          reason: 'FailedDeployModel',
          message:
            'Failed deploy model due to AccessDenied: User: arn:aws:sts::111122223333:assumed-role/aws-load-balancer-controller/1700000000 is not authorized to perform: elasticloadbalancing:CreateTargetGroup',
          count: 9,
          source: { component: 'ingress' },
          lastTimestamp: '2026-11-22T09:57:30Z',
        });
      });
    });
    const notDeployed = await diagnoseDir(undeployable);
    expect(notDeployed.rootCause.category).toBe('ingress');
    expect(notDeployed.rootCause.detail).toContain(
      'the aws-load-balancer-controller controller cannot reconcile the Ingress: Event Warning FailedDeployModel (x9) Ingress/web-api: Failed deploy model due to AccessDenied',
    );
    const noCrd = await copies.edit('ingress-backend-port-mismatch', async (b) => {
      await alb(b);
      await rm(b.file('namespaces/app/targetgroupbindings.json'));
    });
    expect(findingOf(await diagnoseDir(noCrd), 'aws.target-groups').status).toBe('unknown');
  });
});

describe('targets from the CLI and Slack', () => {
  it('kproxy diagnose --ingress resolves the backend Service; bad values are one line naming the flag', async () => {
    const ok = await cli(
      'diagnose',
      '--bundle',
      example('ingress-backend-port-mismatch'),
      '--ingress',
      'app/web-api',
      '--format',
      'json',
    );
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).target).toMatchObject({ route: 'Ingress app/web-api', service: 'web-api' });
    for (const [args, message] of [
      [['--ingress', 'web-api'], 'kproxy: --ingress "web-api": must be NAMESPACE/NAME\n'],
      [
        ['--httproute', 'app/Web'],
        'kproxy: --httproute "app/Web": namespace must be a DNS label and name a DNS subdomain\n',
      ],
      [
        ['--ingress', 'app/a', '--httproute', 'app/b'],
        'kproxy: --ingress and --httproute exclude each other\n',
      ],
      [
        ['--ingress', 'app/a', '--service', 'app/b'],
        'kproxy: --ingress and --service exclude each other (the route names its Services)\n',
      ],
      [['--ingress', 'app/nope'], 'kproxy: ingress app/nope not found\n'],
    ] as const) {
      const r = await cli('diagnose', '--bundle', example('ingress-backend-port-mismatch'), ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(message);
    }
  });

  it('kproxy collect --ingress writes a bundle whose manifest names the route; diagnose reads it back', async () => {
    const s = await serve(example('ingress-controller-crashloop'));
    running.push(s);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-ns-cli-'));
    temp.push(dir);
    const out = path.join(dir, 'incident');
    const collected = await cli(
      'collect',
      '--kubeconfig',
      s.kubeconfig,
      '--context',
      'bundle',
      '--ingress',
      'app/web-api',
      '--node',
      n2,
      '--node-captures',
      'off',
      '--out',
      out,
    );
    expect(collected.code).toBe(0);
    expect(collected.stderr).toContain('Ingress, controllers, load balancer and target groups');
    const manifest = JSON.parse(await readFile(path.join(out, 'bundle.json'), 'utf8')) as { target: unknown };
    expect(manifest.target).toMatchObject({ namespace: 'app', service: 'web-api', route: ingressTarget });
    const offline = JSON.parse((await cli('diagnose', '--bundle', out, '--format', 'json')).stdout) as {
      rootCause: { category: string };
      target: { route: string };
    };
    expect(offline).toMatchObject({
      rootCause: { category: 'ingress' },
      target: { route: 'Ingress app/web-api' },
    });
    expect((await cli('collect', '--context', 'x', '--out', out)).stderr).toBe(
      'kproxy: collect needs --service NS/NAME, --ingress NS/NAME or --httproute NS/NAME (or --cluster-wide)\n',
    );
  });

  it('/kproxy diagnose <cluster> ingress ns/name parses to a route, and the job carries it', () => {
    const parsed = parseCommand('diagnose prod-east ingress app/web-api --node ip-10-0-2-45.ec2.internal');
    expect(parsed).toEqual({
      ok: true,
      command: { kind: 'diagnose', cluster: 'prod-east', route: ingressTarget, node: n2 },
    });
    expect(parseCommand('diagnose prod-east httproute app/web')).toMatchObject({
      ok: true,
      command: { route: { kind: 'HTTPRoute', namespace: 'app', name: 'web' } },
    });
    expect(parseCommand('diagnose prod-east ingress')).toEqual({
      ok: false,
      problem: '`ingress` needs the Ingress as <namespace>/<name>',
    });
    expect(parseCommand('diagnose prod-east ingress web')).toEqual({
      ok: false,
      problem: '`ingress web` must be NAMESPACE/NAME',
    });
    expect(parseCommand('diagnose prod-east app/web-api ingress app/web-api')).toMatchObject({ ok: false });
    expect(parseCommand('diagnose prod-east ingress app/a httproute app/b')).toEqual({
      ok: false,
      problem: 'give one `ingress` or `httproute`',
    });
    // A cluster may itself be called `ingress`.
    expect(parseCommand('diagnose ingress ingress app/web-api')).toMatchObject({
      ok: true,
      command: { cluster: 'ingress' },
    });
    expect(jobTarget({ route: 'Ingress/app/web-api' })).toMatchObject({ route: ingressTarget });
  });
});

describe('live, through the test API server', () => {
  const roles = [
    ...deployGrants(
      'kproxy-reader',
      'kproxy-reader-kube-system',
      'kproxy-reader-nodes-proxy',
      'kproxy-node-capture-debug-pod',
    ),
    ...deployGrants('kproxy-reader-ingress-logs').map((g) => ({ ...g, namespace: 'ingress-nginx' })),
  ];
  async function served(name: string, rbac = roles): Promise<Served> {
    const s = await serve(example(name), { rbac });
    running.push(s);
    return s;
  }

  it('an HTTPRoute on a cluster without the Gateway API: 404 from the server, the backends unknown naming why', async () => {
    const s = await served('ingress-backend-port-mismatch');
    const d = await diagnoseSource(s.source(), {
      target: { route: { kind: 'HTTPRoute', namespace: 'app', name: 'web' } },
    });
    const f = findingOf(d, 'ingress.backends');
    expect(f.status).toBe('unknown');
    expect(f.summary).toContain('not found: get httproutes.gateway.networking.k8s.io in app');
    expect(f.summary).toContain('CRD not installed');
    expect(s.server.requests.find((r) => r.path.includes('/gateway.networking.k8s.io/'))?.status).toBe(404);
  });

  it('an Ingress that does not exist is a bad target, not a diagnosis', async () => {
    const s = await served('ingress-backend-port-mismatch');
    await expect(
      diagnoseSource(s.source(), { target: { route: { ...ingressTarget, name: 'nope' } } }),
    ).rejects.toThrow(/^ingress app\/nope not found$/);
  });

  it('without the ingress grants the route is forbidden: unknown, naming the verb and resource', async () => {
    const s = await served(
      'ingress-backend-port-mismatch',
      deployGrants('kproxy-reader-kube-system', 'kproxy-reader-nodes-proxy').concat([
        {
          rules: [
            { apiGroups: [''], resources: ['services', 'pods', 'events', 'nodes'], verbs: ['get', 'list'] },
          ],
        },
      ]),
    );
    const d = await diagnoseSource(s.source(), { target: { route: ingressTarget } });
    expect(findingOf(d, 'ingress.backends').summary).toContain(
      'forbidden: get ingresses.networking.k8s.io in app (RBAC: grant "get" on ingresses.networking.k8s.io)',
    );
  });

  it('collect writes the route, controllers and their logs; offline equals live', async () => {
    for (const name of ['ingress-controller-crashloop', 'ingress-backend-no-endpoints', 'lb-pending']) {
      const s = await served(name);
      const route = name === 'lb-pending' ? {} : { route: ingressTarget };
      const target = {
        node: n2,
        ...route,
        ...(name === 'lb-pending' ? { namespace: 'app', service: 'web-api' } : {}),
      };
      const live = await diagnoseSource(s.source(), { target });
      const { bundle } = await s.source().collect({ target });
      const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-ns-'));
      temp.push(dir);
      const written = await writeBundle(bundle, path.join(dir, 'b'));
      const offline = await diagnoseSource(new BundleSource(written.path));
      expect(offline.rootCause).toEqual(live.rootCause);
      expect(statuses(offline)).toEqual(statuses(live));
      expect(offline.rootCause.category).toBe((await diagnoseDir(example(name))).rootCause.category);
      expect(s.server.requests.filter((r) => r.rbacDenied).map((r) => r.path)).toEqual([]);
    }
  });
});

describe('the test API server serves the north-south resources as a real one does', () => {
  /** kubectl with the served kubeconfig and a private discovery cache. */
  async function kubectl(
    s: Served,
    ...args: string[]
  ): Promise<{ stdout: string; stderr: string; code: number }> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-ns-kubectl-'));
    temp.push(dir);
    try {
      const out = await run('/usr/bin/kubectl', ['--cache-dir', path.join(dir, 'cache'), ...args], {
        env: { ...process.env, KUBECONFIG: s.kubeconfig },
        timeout: 60_000,
      });
      return { ...out, code: 0 };
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; code?: number };
      return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? -1 };
    }
  }
  const get = async (s: Served, p: string) => {
    const r = await fetch(`${s.server.url}${p}`, { headers: { authorization: 'Bearer test-token' } });
    const text = await r.text();
    const json = r.headers.get('content-type')?.startsWith('application/json');
    return { status: r.status, text, body: (json ? JSON.parse(text) : {}) as Record<string, unknown> };
  };

  it("a CRD group is discovered and served only where the bundle holds it; elsewhere the NotFound handler's plain 404", async () => {
    const s = await serve(example('ingress-backend-port-mismatch'));
    running.push(s);
    const groups = ((await get(s, '/apis')).body.groups as { name: string }[]).map((g) => g.name);
    expect(groups).toContain('networking.k8s.io');
    expect(groups).toContain('elbv2.k8s.aws');
    expect(groups).not.toContain('gateway.networking.k8s.io');
    // The end of the real apiserver's delegation chain: net/http's plain-text 404, no Status.
    const notFound = { status: 404, text: '404 page not found\n', body: {} };
    expect(await get(s, '/apis/gateway.networking.k8s.io/v1/namespaces/app/httproutes/web')).toEqual(
      notFound,
    );
    expect(await get(s, '/apis/gateway.networking.k8s.io/v1')).toEqual(notFound);
    // A resource only exists under its own group/version.
    expect(await get(s, '/api/v1/namespaces/app/ingresses')).toEqual(notFound);
    // An object that does not exist is a Status naming it.
    expect((await get(s, '/apis/networking.k8s.io/v1/namespaces/app/ingresses/nope')).body).toMatchObject({
      kind: 'Status',
      reason: 'NotFound',
    });
    expect((await get(s, '/apis/networking.k8s.io/v1/ingressclasses')).body).toMatchObject({
      kind: 'IngressClassList',
      items: [{ metadata: { name: 'nginx' } }, { metadata: { name: 'alb' } }],
    });
    expect(await kubectl(s, 'get', 'ingress', '-n', 'app', '-o', 'name')).toMatchObject({
      code: 0,
      stdout: 'ingress.networking.k8s.io/web-api\n',
    });
    const routes = await kubectl(s, 'get', 'httproutes', '-n', 'app');
    expect(routes.code).not.toBe(0);
    expect(routes.stderr).toContain('the server doesn\'t have a resource type "httproutes"');
  });

  it('the controller pods of controller-pods.json are pods of their namespace, with their logs', async () => {
    const s = await serve(example('ingress-controller-crashloop'));
    running.push(s);
    const pods = await kubectl(s, 'get', 'pods', '-n', 'ingress-nginx', '-o', 'name');
    expect(pods.stdout.trim().split('\n')).toEqual([
      'pod/ingress-nginx-controller-6f8d7c9b5-7xk2p',
      'pod/ingress-nginx-controller-6f8d7c9b5-qm4tz',
    ]);
    const log = await kubectl(
      s,
      'logs',
      '-n',
      'ingress-nginx',
      'ingress-nginx-controller-6f8d7c9b5-7xk2p',
      '-c',
      'controller',
      '--previous',
    );
    expect(log.stdout).toContain('main.go:64] port 80 is already in use. Please check the flag --http-port');
    expect(
      (await get(s, '/api/v1/namespaces/kube-system/pods/ingress-nginx-controller-6f8d7c9b5-7xk2p')).status,
    ).toBe(404);
  });
});
