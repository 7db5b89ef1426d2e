/**
 * A small EKS cluster ("prod-east", Kubernetes 1.30, three nodes, an `app/web-api`
 * Deployment behind a ClusterIP Service) as a model that scenarios mutate, and its
 * rendering into a bundle: objects, kube-proxy logs and per-node captures that agree
 * with each other.
 */
import type { ProgrammedPort } from './captures.js';
import type { ContainerState, Json, NodeSpec, ServiceSpecInput } from './objects.js';

export const collectedAt = '2026-11-22T10:00:00Z';
export const clusterCreated = '2026-09-14T07:31:55Z';
export const rolloutAt = '2026-11-20T08:14:02Z';
export const vpcCidr = '10.0.0.0/16';

export interface AppPod {
  name: string;
  node: string;
  ip: string;
  ready: boolean;
  labels: Record<string, string>;
  containerPorts: { name?: string; containerPort: number; protocol?: string }[];
  state?: ContainerState;
  lastState?: ContainerState;
  restartCount?: number;
  readyMessage?: string;
  created?: string;
  annotations?: Record<string, string>;
}

export interface KubeProxyPod {
  node: string;
  name: string;
  ready: boolean;
  state?: ContainerState;
  lastState?: ContainerState;
  restartCount?: number;
  phase?: string;
  /** Extra log lines `[isoTime, klog line without header → built by logs.ts]`. */
  logEvents: LogEvent[];
  previousLog?: LogEvent[];
  startedAt: string;
  /** No log collected for this pod. */
  noLogs?: boolean;
}

export interface LogEvent {
  at: string;
  severity: 'I' | 'W' | 'E' | 'F';
  source: string;
  message: string;
}

export interface NodeCaptureState {
  /** Rewrite what this node's kube-proxy programmed (stale rules, missing chains). */
  programmed?: (ports: ProgrammedPort[]) => ProgrammedPort[];
  emptyKubeServices?: boolean;
  /** Seconds between the last successful sync and collection (healthz/metrics). */
  lastSyncAgo: number;
  /** A change queued this many seconds before collection and not yet synced. */
  pendingSinceAgo?: number;
  restoreFailures: number;
  syncDurations: number[];
  conntrack: { count: number; max: number; drop: number; earlyDrop: number; insertFailed: number };
  dmesg: string[];
  modules: string[];
  kubeIpvs0: boolean;
  ipvsError?: string;
  nodeEligible: boolean;
  /** Skip the capture files named here (not collected). */
  omit: string[];
}

/** Captures of scripts/real-captures (real tool output) that replace a node's generated ones. */
export interface RealCaptures {
  readonly node: string;
  /** The case directory under scripts/real-captures/captures/. */
  readonly source: string;
  /** Capture files to copy (`iptables-save.txt`, `ip6tables-save.txt`, `nft.txt`). */
  readonly files: readonly string[];
}

export interface Model {
  scenario: string;
  cluster: string;
  collectedAt: string;
  target: {
    namespace?: string;
    service?: string;
    node?: string;
    from?: string;
    /** An Ingress or HTTPRoute target (issue 18 §4): its first backend is the Service. */
    route?: { kind: 'Ingress' | 'HTTPRoute'; namespace: string; name: string };
  };
  /** Real captures copied verbatim over the generated ones. */
  realCaptures?: RealCaptures[];
  /** A last edit of the rendered files (extra slices, client workloads, namespaces.json). */
  postRender?: (files: Map<string, string>) => void;
  apiServerVersion: string;
  eksVersion: string;
  kubeProxy: {
    image: string;
    binaryVersion: string;
    addonVersion: string;
    mode: 'iptables' | 'ipvs' | 'nftables';
    scheduler: string;
    configMode: string;
  };
  nodes: NodeSpec[];
  app: {
    namespace: string;
    deployment: string;
    service: ServiceSpecInput;
    pods: AppPod[];
    networkPolicies: Json[];
    events: Json[];
  };
  coredns: AppPod[];
  kubeProxyPods: KubeProxyPod[];
  awsNode: {
    node: string;
    name: string;
    ready: boolean;
    state?: ContainerState;
    lastState?: ContainerState;
    restartCount?: number;
  }[];
  awsNodeEnv: { name: string; value: string }[];
  systemEvents: Json[];
  defaultEvents: Json[];
  captures: Map<string, NodeCaptureState>;
  /** Nodes that get a nodes/<node>/ directory. */
  captureNodes: string[];
  /** Leave these bundle files out (paths relative to the bundle). */
  omitFiles: string[];
}

const nodeSpecs: NodeSpec[] = [
  {
    name: 'ip-10-0-1-23.ec2.internal',
    ip: '10.0.1.23',
    zone: 'us-east-1a',
    instanceId: 'i-0a1b2c3d4e5f60718',
    kubeletVersion: 'v1.30.4-eks-a737599',
  },
  {
    name: 'ip-10-0-2-45.ec2.internal',
    ip: '10.0.2.45',
    zone: 'us-east-1b',
    instanceId: 'i-0b2c3d4e5f6071829',
    kubeletVersion: 'v1.30.4-eks-a737599',
  },
  {
    name: 'ip-10-0-3-67.ec2.internal',
    ip: '10.0.3.67',
    zone: 'us-east-1c',
    instanceId: 'i-0c3d4e5f607182930',
    kubeletVersion: 'v1.30.4-eks-a737599',
  },
];

export const nodeNames = nodeSpecs.map((n) => n.name) as [string, string, string];

const webApiPorts = [{ name: 'http', containerPort: 8080 }];

export function defaultCaptureState(): NodeCaptureState {
  return {
    lastSyncAgo: 2,
    restoreFailures: 0,
    syncDurations: [0.412, 0.098, 0.071, 0.064, 0.066, 0.069, 0.072, 0.061, 0.058, 0.07],
    conntrack: { count: 3417, max: 262144, drop: 0, earlyDrop: 0, insertFailed: 0 },
    dmesg: [],
    modules: [],
    kubeIpvs0: false,
    nodeEligible: true,
    omit: [],
  };
}

export function baseModel(scenario: string): Model {
  const ecr = '602401143452.dkr.ecr.us-east-1.amazonaws.com';
  return {
    scenario,
    cluster: 'prod-east',
    collectedAt,
    target: { namespace: 'app', service: 'web-api', node: nodeNames[1] },
    apiServerVersion: 'v1.30.6-eks-7f9249a',
    eksVersion: '1.30',
    kubeProxy: {
      image: `${ecr}/eks/kube-proxy:v1.30.6-minimal-eksbuild.3`,
      binaryVersion: 'v1.30.6-eks-ba0a3b4',
      addonVersion: 'v1.30.6-eksbuild.3',
      mode: 'iptables',
      scheduler: '',
      configMode: 'iptables',
    },
    nodes: nodeSpecs.map((n) => ({ ...n })),
    app: {
      namespace: 'app',
      deployment: 'web-api',
      service: {
        name: 'web-api',
        namespace: 'app',
        clusterIP: '172.20.91.14',
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
        selector: { app: 'web-api' },
        labels: { app: 'web-api', 'app.kubernetes.io/part-of': 'storefront' },
      },
      pods: [
        {
          name: 'web-api-7c9d8b6f5d-4xkqp',
          node: nodeNames[0],
          ip: '10.0.1.101',
          ready: true,
          labels: { app: 'web-api', 'pod-template-hash': '7c9d8b6f5d' },
          containerPorts: webApiPorts,
        },
        {
          name: 'web-api-7c9d8b6f5d-8mzt2',
          node: nodeNames[1],
          ip: '10.0.2.57',
          ready: true,
          labels: { app: 'web-api', 'pod-template-hash': '7c9d8b6f5d' },
          containerPorts: webApiPorts,
        },
        {
          name: 'web-api-7c9d8b6f5d-q7rjn',
          node: nodeNames[2],
          ip: '10.0.3.88',
          ready: true,
          labels: { app: 'web-api', 'pod-template-hash': '7c9d8b6f5d' },
          containerPorts: webApiPorts,
        },
      ],
      networkPolicies: [],
      events: [],
    },
    coredns: [
      {
        name: 'coredns-5b8cc885bc-2xv7r',
        node: nodeNames[0],
        ip: '10.0.1.140',
        ready: true,
        labels: {
          'eks.amazonaws.com/component': 'coredns',
          'k8s-app': 'kube-dns',
          'pod-template-hash': '5b8cc885bc',
        },
        containerPorts: [
          { name: 'dns', containerPort: 53, protocol: 'UDP' },
          { name: 'dns-tcp', containerPort: 53 },
          { name: 'metrics', containerPort: 9153 },
        ],
      },
      {
        name: 'coredns-5b8cc885bc-9tnbw',
        node: nodeNames[1],
        ip: '10.0.2.210',
        ready: true,
        labels: {
          'eks.amazonaws.com/component': 'coredns',
          'k8s-app': 'kube-dns',
          'pod-template-hash': '5b8cc885bc',
        },
        containerPorts: [
          { name: 'dns', containerPort: 53, protocol: 'UDP' },
          { name: 'dns-tcp', containerPort: 53 },
          { name: 'metrics', containerPort: 9153 },
        ],
      },
    ],
    kubeProxyPods: [
      { node: nodeNames[0], name: 'kube-proxy-8fxlw', ready: true, logEvents: [], startedAt: rolloutAt },
      {
        node: nodeNames[1],
        name: 'kube-proxy-k2v9d',
        ready: true,
        logEvents: [],
        startedAt: '2026-11-20T08:14:37Z',
      },
      {
        node: nodeNames[2],
        name: 'kube-proxy-zr5hq',
        ready: true,
        logEvents: [],
        startedAt: '2026-11-20T08:15:11Z',
      },
    ],
    awsNode: [
      { node: nodeNames[0], name: 'aws-node-b7k4m', ready: true },
      { node: nodeNames[1], name: 'aws-node-n8w2c', ready: true },
      { node: nodeNames[2], name: 'aws-node-t4qzx', ready: true },
    ],
    awsNodeEnv: [
      { name: 'ADDITIONAL_ENI_TAGS', value: '{}' },
      { name: 'AWS_VPC_CNI_NODE_PORT_SUPPORT', value: 'true' },
      { name: 'AWS_VPC_ENI_MTU', value: '9001' },
      { name: 'AWS_VPC_K8S_CNI_EXTERNALSNAT', value: 'false' },
      { name: 'AWS_VPC_K8S_CNI_LOGLEVEL', value: 'DEBUG' },
      { name: 'ENABLE_POD_ENI', value: 'false' },
      { name: 'ENABLE_PREFIX_DELEGATION', value: 'false' },
      { name: 'WARM_ENI_TARGET', value: '1' },
    ],
    systemEvents: [],
    defaultEvents: [],
    captures: new Map(nodeNames.map((n) => [n, defaultCaptureState()])),
    captureNodes: [...nodeNames],
    omitFiles: [],
  };
}

export function nodeOf(model: Model, name: string): NodeSpec {
  const node = model.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node ${name}`);
  return node;
}

export function captureOf(model: Model, node: string): NodeCaptureState {
  const c = model.captures.get(node);
  if (!c) throw new Error(`no capture state for ${node}`);
  return c;
}

export function kubeProxyPodOf(model: Model, node: string): KubeProxyPod {
  const p = model.kubeProxyPods.find((k) => k.node === node);
  if (!p) throw new Error(`no kube-proxy pod on ${node}`);
  return p;
}
