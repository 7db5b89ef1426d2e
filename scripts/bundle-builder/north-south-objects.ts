/**
 * North-south objects for the example bundles (issue 18 §4), shaped as `kubectl get -o json`
 * prints them: Ingress and IngressClass (networking.k8s.io/v1, k8s.io/api networking/v1
 * types.go), the ingress-nginx controller pods as its chart renders them
 * (kubernetes/ingress-nginx charts/ingress-nginx templates/controller-deployment.yaml:
 * labels, container `controller`, ports http/https/webhook), and its log lines.
 */
import { at } from './logs.js';
import { collectedAt, type Model, nodeNames, nodeOf } from './model.js';
import { type ContainerState, type Json, list, meta, pod } from './objects.js';

export const ingressCreated = '2026-11-18T14:05:40Z';
const nginxImage =
  'registry.k8s.io/ingress-nginx/controller:v1.11.3@sha256:d56f135b6462cfc476447cfe564b83a45e8bb7da2774963b00d12161112270b7';
/** The NLB in front of ingress-nginx (its controller Service), which the Ingress status publishes. */
export const albHostname = 'k8s-ingressn-ingressn-5f0c2a7d2b-1a2b3c4d5e6f7a8b.elb.us-east-1.amazonaws.com';

/**
 * ingress-nginx's controller Service as its chart renders it (templates/controller-service.yaml:
 * type LoadBalancer, ports http 80 → http, https 443 → https, the controller's labels).
 */
export function nginxControllerService(hostname: string | undefined): Json {
  return list([
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('Service', 'ingress-nginx-controller', 'ingress-nginx', '2026-09-14T08:02:13Z', {
        labels: {
          'app.kubernetes.io/component': 'controller',
          'app.kubernetes.io/instance': 'ingress-nginx',
          'app.kubernetes.io/name': 'ingress-nginx',
          'app.kubernetes.io/part-of': 'ingress-nginx',
          'app.kubernetes.io/version': '1.11.3',
        },
      }),
      spec: {
        allocateLoadBalancerNodePorts: true,
        clusterIP: '172.20.18.201',
        clusterIPs: ['172.20.18.201'],
        externalTrafficPolicy: 'Cluster',
        internalTrafficPolicy: 'Cluster',
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        ports: [
          {
            appProtocol: 'http',
            name: 'http',
            nodePort: 30080,
            port: 80,
            protocol: 'TCP',
            targetPort: 'http',
          },
          {
            appProtocol: 'https',
            name: 'https',
            nodePort: 30443,
            port: 443,
            protocol: 'TCP',
            targetPort: 'https',
          },
        ],
        selector: {
          'app.kubernetes.io/component': 'controller',
          'app.kubernetes.io/instance': 'ingress-nginx',
          'app.kubernetes.io/name': 'ingress-nginx',
        },
        sessionAffinity: 'None',
        type: 'LoadBalancer',
      },
      status: { loadBalancer: hostname ? { ingress: [{ hostname }] } : {} },
    },
  ]);
}

export interface IngressPath {
  path: string;
  service: string;
  port: { number: number } | { name: string };
}

export function ingress(
  name: string,
  namespace: string,
  className: string,
  host: string,
  paths: IngressPath[],
): Json {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta('Ingress', name, namespace, ingressCreated, { generation: 1 }),
    spec: {
      ingressClassName: className,
      rules: [
        {
          host,
          http: {
            paths: paths.map((p) => ({
              backend: { service: { name: p.service, port: p.port } },
              path: p.path,
              pathType: 'Prefix',
            })),
          },
        },
      ],
    },
    status: { loadBalancer: { ingress: [{ hostname: albHostname }] } },
  };
}

export function ingressClasses(): Json {
  return list([
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: meta('IngressClass', 'nginx', undefined, '2026-09-14T08:02:13Z', {
        annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' },
        generation: 1,
        labels: {
          'app.kubernetes.io/component': 'controller',
          'app.kubernetes.io/instance': 'ingress-nginx',
          'app.kubernetes.io/name': 'ingress-nginx',
          'app.kubernetes.io/part-of': 'ingress-nginx',
          'app.kubernetes.io/version': '1.11.3',
        },
      }),
      spec: { controller: 'k8s.io/ingress-nginx' },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: meta('IngressClass', 'alb', undefined, '2026-09-14T08:05:40Z', { generation: 1 }),
      spec: { controller: 'ingress.k8s.aws/alb' },
    },
  ]);
}

export interface ControllerPod {
  name: string;
  node: string;
  ip: string;
  ready: boolean;
  state?: ContainerState;
  lastState?: ContainerState;
  restartCount?: number;
}

const nginxStarted = '2026-11-20T08:20:09Z';

export function nginxControllerPods(model: Model, pods: ControllerPod[]): Json {
  return list(
    pods.map((p) =>
      pod(
        {
          name: p.name,
          namespace: 'ingress-nginx',
          node: p.node,
          hostIP: nodeOf(model, p.node).ip,
          podIP: p.ip,
          labels: {
            'app.kubernetes.io/component': 'controller',
            'app.kubernetes.io/instance': 'ingress-nginx',
            'app.kubernetes.io/name': 'ingress-nginx',
            'app.kubernetes.io/part-of': 'ingress-nginx',
            'app.kubernetes.io/version': '1.11.3',
            'pod-template-hash': '6f8d7c9b5',
          },
          owner: { kind: 'ReplicaSet', name: 'ingress-nginx-controller-6f8d7c9b5' },
          serviceAccountName: 'ingress-nginx',
          containers: [
            {
              name: 'controller',
              image: nginxImage,
              args: [
                '/nginx-ingress-controller',
                '--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller',
                '--election-id=ingress-nginx-leader',
                '--controller-class=k8s.io/ingress-nginx',
                '--ingress-class=nginx',
                '--configmap=$(POD_NAMESPACE)/ingress-nginx-controller',
              ],
              ports: [
                { name: 'http', containerPort: 80 },
                { name: 'https', containerPort: 443 },
                { name: 'webhook', containerPort: 8443 },
              ],
            },
          ],
          ready: p.ready,
          ...(p.state ? { state: p.state } : {}),
          ...(p.lastState ? { lastState: p.lastState } : {}),
          restartCount: p.restartCount ?? 0,
        },
        nginxStarted,
      ),
    ),
  );
}

export const nginxPods = (): ControllerPod[] => [
  { name: 'ingress-nginx-controller-6f8d7c9b5-7xk2p', node: nodeNames[0], ip: '10.0.1.172', ready: true },
  { name: 'ingress-nginx-controller-6f8d7c9b5-qm4tz', node: nodeNames[2], ip: '10.0.3.164', ready: true },
];

/**
 * The start-up lines ingress-nginx v1.11 prints (cmd/nginx/main.go "Creating API client",
 * "Running in Kubernetes cluster"; internal/ingress/controller "Backend successfully reloaded").
 */
export function nginxLog(): string {
  const t = (iso: string, micros: string) =>
    `${iso.slice(5, 7)}${iso.slice(8, 10)} ${iso.slice(11, 19)}.${micros}`;
  return [
    '-------------------------------------------------------------------------------',
    'NGINX Ingress controller',
    '  Release:       v1.11.3',
    '  Build:         0106de65cfccb74405a6dfa7d9daffc6f0a6ef1a',
    '  Repository:    https://github.com/kubernetes/ingress-nginx',
    '  nginx version: nginx/1.25.5',
    '',
    '-------------------------------------------------------------------------------',
    '',
    `I${t(nginxStarted, '204188')}       7 main.go:205] "Creating API client" host="https://172.20.0.1:443"`,
    `I${t(nginxStarted, '215301')}       7 main.go:248] "Running in Kubernetes cluster" major="1" minor="30+" git="v1.30.6-eks-7f9249a" state="clean" commit="7f9249a" platform="linux/amd64"`,
    `I${t(nginxStarted, '590231')}       7 main.go:101] "SSL fake certificate created" file="/etc/ingress-controller/ssl/default-fake-certificate.pem"`,
    `I${t(at(nginxStarted, 3), '812407')}       7 controller.go:213] "Backend successfully reloaded"`,
    '',
  ].join('\n');
}

/**
 * ingress-nginx exits at start-up when its HTTP port is taken: pkg/flags/flags.go
 * `ParseFlags` returns "port 80 is already in use. Please check the flag --http-port" and
 * cmd/nginx/main.go passes it to klog.Fatal (exit 255).
 */
export function nginxPortInUseLog(secondsAgo: number): string {
  const iso = at(collectedAt, -secondsAgo);
  return `F${iso.slice(5, 7)}${iso.slice(8, 10)} ${iso.slice(11, 19)}.512334       7 main.go:64] port 80 is already in use. Please check the flag --http-port\n`;
}
