/**
 * Example incidents for issue 18 §4 (runbook 004, "Ingress And LoadBalancer"): an Ingress
 * whose backend names a port the Service does not have, an Ingress backend without ready
 * endpoints, a crash-looping ingress controller, and a LoadBalancer Service whose class no
 * running controller implements.
 */
import { at } from './logs.js';
import { baseModel, collectedAt, type Model, nodeNames } from './model.js';
import {
  albHostname,
  type IngressPath,
  ingress,
  ingressClasses,
  nginxControllerPods,
  nginxControllerService,
  nginxLog,
  nginxPods,
  nginxPortInUseLog,
} from './north-south-objects.js';
import { type Json, list, meta, service } from './objects.js';
import type { Scenario } from './scenarios.js';

type Files = Map<string, string>;
const json = (v: unknown) => `${JSON.stringify(v, null, 4)}\n`;
const read = (files: Files, rel: string) => JSON.parse(files.get(rel) ?? '{"items":[]}') as { items: Json[] };
const [, n2] = nodeNames;
const ago = (seconds: number) => at(collectedAt, -seconds);

/** The web-api Ingress (class nginx) as the target, its controller healthy unless `edit` says otherwise. */
function ingressModel(name: string, paths: IngressPath[], edit?: (files: Files, m: Model) => void): Model {
  const m = baseModel(name);
  m.target = { route: { kind: 'Ingress', namespace: 'app', name: 'web-api' }, node: n2 };
  m.postRender = (files) => {
    files.set(
      'namespaces/app/ingresses.json',
      json(list([ingress('web-api', 'app', 'nginx', 'api.example.com', paths)])),
    );
    files.set('ingressclasses.json', json(ingressClasses()));
    files.set('controller-pods.json', json(nginxControllerPods(m, nginxPods())));
    files.set('controller-services.json', json(nginxControllerService(albHostname)));
    for (const p of nginxPods()) files.set(`logs/ingress-nginx/${p.name}/controller.log`, nginxLog());
    files.set('namespaces/app/targetgroupbindings.json', json(list([])));
    edit?.(files, m);
  };
  return m;
}

export const northSouthScenarios: Scenario[] = [
  {
    name: 'ingress-backend-port-mismatch',
    summary:
      'The Ingress app/web-api sends / to web-api port 8080 — the container port — but the Service only has port 80 (http): ingress-nginx answers 503, while the Service itself is healthy.',
    expected: {
      category: 'ingress',
      nodes: [],
      evidence: ['port.number 8080 is not a port of Service app/web-api', 'its ports: http 80/TCP'],
    },
    build() {
      return ingressModel('ingress-backend-port-mismatch', [
        { path: '/', service: 'web-api', port: { number: 8080 } },
      ]);
    },
  },
  {
    name: 'ingress-backend-no-endpoints',
    summary:
      'The Ingress app/web-api sends /v2 to Service web-api-v2, whose Deployment was scaled to zero: no ready endpoints behind that backend, while / (web-api) works.',
    expected: {
      category: 'no_endpoints',
      nodes: [],
      evidence: ['backend Service web-api-v2', 'has no ready endpoints'],
    },
    build() {
      return ingressModel(
        'ingress-backend-no-endpoints',
        [
          { path: '/', service: 'web-api', port: { name: 'http' } },
          { path: '/v2', service: 'web-api-v2', port: { number: 80 } },
        ],
        (files) => {
          const services = read(files, 'namespaces/app/services.json');
          services.items.push(
            service(
              {
                name: 'web-api-v2',
                namespace: 'app',
                clusterIP: '172.20.133.7',
                ports: [{ name: 'http', port: 80, targetPort: 'http' }],
                selector: { app: 'web-api-v2' },
                labels: { app: 'web-api-v2' },
              },
              '2026-11-21T16:40:02Z',
            ),
          );
          files.set('namespaces/app/services.json', json(services));
          // The EndpointSlice controller's placeholder for a Service that selects no pods
          // (pkg/controller/endpointslice reconciler.go: placeholder slice, no ports, no endpoints).
          const slices = read(files, 'namespaces/app/endpointslices.json');
          slices.items.push({
            addressType: 'IPv4',
            apiVersion: 'discovery.k8s.io/v1',
            endpoints: null,
            kind: 'EndpointSlice',
            metadata: meta('EndpointSlice', 'web-api-v2-8jq2w', 'app', '2026-11-21T16:40:02Z', {
              generateName: 'web-api-v2-',
              generation: 1,
              labels: {
                app: 'web-api-v2',
                'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
                'kubernetes.io/service-name': 'web-api-v2',
              },
            }),
            ports: null,
          });
          files.set('namespaces/app/endpointslices.json', json(slices));
        },
      );
    },
  },
  {
    name: 'ingress-controller-crashloop',
    summary:
      'Both ingress-nginx controller pods crash-loop at start-up: port 80 is taken on their nodes. The Ingress backends and the Service are fine; nothing serves the Ingress.',
    expected: {
      category: 'ingress',
      nodes: [],
      evidence: ['CrashLoopBackOff', 'port 80 is already in use. Please check the flag --http-port'],
    },
    build() {
      return ingressModel(
        'ingress-controller-crashloop',
        [{ path: '/', service: 'web-api', port: { name: 'http' } }],
        (files, m) => {
          const pods = nginxPods().map((p, i) => ({
            ...p,
            ready: false,
            restartCount: 14 + i,
            state: {
              kind: 'waiting' as const,
              reason: 'CrashLoopBackOff',
              message: `back-off 5m0s restarting failed container=controller pod=${p.name}_ingress-nginx(${p.name.slice(-5)})`,
            },
            lastState: {
              kind: 'terminated' as const,
              reason: 'Error',
              exitCode: 255,
              startedAt: ago(140 + i * 20),
              finishedAt: ago(139 + i * 20),
            },
          }));
          files.set('controller-pods.json', json(nginxControllerPods(m, pods)));
          for (const [i, p] of pods.entries()) {
            files.delete(`logs/ingress-nginx/${p.name}/controller.log`);
            files.set(
              `logs/ingress-nginx/${p.name}/controller.previous.log`,
              nginxPortInUseLog(139 + i * 20),
            );
          }
        },
      );
    },
  },
  {
    name: 'lb-pending',
    summary:
      'web-api is a LoadBalancer Service with loadBalancerClass service.k8s.aws/nlb, but the AWS Load Balancer Controller is not running: the Service has no address, forever pending.',
    expected: {
      category: 'load_balancer',
      nodes: [],
      evidence: ['status.loadBalancer.ingress empty', 'no aws-load-balancer-controller pods run'],
    },
    build() {
      const m = baseModel('lb-pending');
      m.app.service.type = 'LoadBalancer';
      m.app.service.ports = [{ name: 'http', port: 80, targetPort: 'http', nodePort: 31380 }];
      m.postRender = (files) => {
        const services = read(files, 'namespaces/app/services.json');
        for (const s of services.items)
          if ((s.metadata as { name: string }).name === 'web-api')
            (s.spec as Record<string, unknown>).loadBalancerClass = 'service.k8s.aws/nlb';
        files.set('namespaces/app/services.json', json(services));
        files.set('controller-pods.json', json(list([])));
        files.set('controller-services.json', json(list([])));
        files.set('namespaces/app/targetgroupbindings.json', json(list([])));
      };
      return m;
    },
  },
];
