/**
 * Facts derived once per diagnosis from the view and shared by several checks (the
 * proxy mode, the ready endpoints, kube-proxy pods by node, parsed logs and captures).
 * Still pure: a function of the view only, computed lazily and memoized.
 */
import { parse as parseYaml } from 'yaml';
import type { Collected } from '../../cluster/collected.js';
import type { Pod, ServicePort } from '../../cluster/kube-types.js';
import type { Healthz } from '../../cluster/parse/healthz.js';
import type { IpFamily } from '../../cluster/parse/ip-family.js';
import type { IptablesSave } from '../../cluster/parse/iptables.js';
import type { IpvsTable } from '../../cluster/parse/ipvsadm.js';
import { type KlogLine, klogValue } from '../../cluster/parse/klog.js';
import type { NftKubeProxy } from '../../cluster/parse/nft.js';
import type { Metrics } from '../../cluster/parse/prometheus.js';
import { matchesServiceSelector } from '../../cluster/selectors.js';
import type { ClusterView } from '../../cluster/view.js';
import { endpointsOf, slicePortsOf } from './endpoints.js';
import { podNode } from './pods.js';
import { parseCaptures, readableLog } from './readable.js';
import { endpointNodes, type NodeScope, nodeScope, scopeNote, unhealthyKubeProxyNodes } from './scope.js';
import { imageTag } from './versions.js';

export type ProxyMode = 'iptables' | 'ipvs' | 'nftables' | 'unknown';

export interface EndpointAddress {
  readonly ip: string;
  /** The slice's addressType (FQDN slices are left out: kube-proxy ignores them). */
  readonly family: IpFamily;
  /**
   * The endpoint this address belongs to (`Pod ns/name`, or the address itself): a
   * dual-stack pod has one endpoint in each family's slice and counts once.
   */
  readonly endpoint: string;
  readonly node: string | undefined;
  readonly pod: string | undefined;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

export interface KubeProxyVersion {
  readonly version: string;
  readonly source: string;
}

export interface ModeFacts {
  readonly mode: ProxyMode;
  /** What the configuration asks for (`''` → default iptables on Linux). */
  readonly configured: ProxyMode | undefined;
  /** The KubeProxyConfiguration's `mode` as written, or why it does not parse. */
  readonly configuration: ConfiguredMode;
  readonly perNode: ReadonlyMap<string, { mode: ProxyMode; source: string }>;
  readonly evidence: readonly string[];
}

export interface ParsedCaptures {
  readonly healthz: Collected<Healthz | { error: string }>;
  readonly metrics: Collected<Metrics>;
  readonly iptables: Collected<IptablesSave>;
  /** ip6tables-save: the IPv6 family of the iptables mode. */
  readonly ip6tables: Collected<IptablesSave>;
  readonly ipvs: Collected<IpvsTable>;
  /** `table ip kube-proxy` of nft.txt. */
  readonly nft: Collected<NftKubeProxy>;
  /** `table ip6 kube-proxy` of nft.txt. */
  readonly nft6: Collected<NftKubeProxy>;
}

export interface Facts {
  /** Every node name known from the node list (or, failing that, from kube-proxy pods). */
  readonly nodeNames: readonly string[];
  /**
   * The nodes examined node by node (scope.ts): the target node; else the client's nodes
   * (`--from`); else the nodes of the Service's endpoints and of unhealthy kube-proxy pods,
   * bounded; else (cluster-wide) every node.
   */
  readonly nodesInScope: readonly string[];
  readonly scope: NodeScope;
  /** How many nodes were not examined and why, when the scope leaves some out. */
  readonly scopeNote: string | undefined;
  /**
   * Every node known from any cluster-wide data (the node list, kube-proxy pods): where
   * the blast radius of a failure is looked for. A live target-scoped view lists only the
   * target node, but may hold every kube-proxy pod.
   */
  readonly knownNodes: readonly string[];
  /** How many nodes the cluster has, as far as the data tells (node list, DaemonSet desired count). */
  readonly clusterSize: number;
  readonly selectedPods: Collected<readonly Pod[]>;
  /** Endpoints of the target Service's IPv4/IPv6 slices, one per address (FQDN slices left out). */
  readonly endpoints: Collected<readonly EndpointAddress[]>;
  /** FQDN EndpointSlices of the target Service (kube-proxy ignores them). */
  readonly fqdnSlices: readonly string[];
  readonly slicePorts: readonly { name: string; port: number; protocol: string }[];
  readonly servicePorts: readonly ServicePort[];
  readonly kubeProxyPodsByNode: ReadonlyMap<string, readonly Pod[]>;
  readonly mode: ModeFacts;
  readonly kubeProxyVersion: KubeProxyVersion | undefined;
  kubeProxyLog(pod: string, which: 'current' | 'previous'): Collected<readonly KlogLine[]>;
  captures(node: string): ParsedCaptures | undefined;
}

export function deriveFacts(view: ClusterView): Facts {
  const nodeNames = deriveNodeNames(view.nodeNames, view.nodes, view.kubeProxy.pods, view.target);
  const kubeProxyPodsByNode = groupByNode(
    view.kubeProxy.pods.state === 'collected' ? view.kubeProxy.pods.value : [],
  );
  const logCache = new Map<string, Collected<readonly KlogLine[]>>();
  const captureCache = new Map<string, ParsedCaptures>();

  const kubeProxyLog = (pod: string, which: 'current' | 'previous'): Collected<readonly KlogLine[]> => {
    const key = `${pod}/${which}`;
    const cached = logCache.get(key);
    if (cached) return cached;
    const logs = view.kubeProxy.logs.get(pod);
    const result: Collected<readonly KlogLine[]> = !logs
      ? { state: 'missing', reason: `not collected: logs of kube-system/${pod}` }
      : logs[which].state === 'missing'
        ? logs[which]
        : readableLog(pod, which, logs[which].value.lines, view.observedAt);
    logCache.set(key, result);
    return result;
  };

  const captures = (node: string): ParsedCaptures | undefined => {
    const raw = view.nodeCaptures.get(node);
    if (!raw) return undefined;
    const cached = captureCache.get(node);
    if (cached) return cached;
    const parsed = parseCaptures(raw, node);
    captureCache.set(node, parsed);
    return parsed;
  };

  const selectedPods = selectPods(view);
  const service = view.service.state === 'collected' ? view.service.value : undefined;
  const knownNodes = [...new Set([...nodeNames, ...kubeProxyPodsByNode.keys()])].sort();
  const ds = view.kubeProxy.daemonSet.state === 'collected' ? view.kubeProxy.daemonSet.value : undefined;
  const endpoints = endpointsOf(view.endpointSlices);
  const scope = nodeScope({
    target: view.target,
    allNodes: nodeNames,
    clientNodes: clientNodes(view),
    endpointNodes: endpointNodes(endpoints),
    unhealthyKubeProxyNodes: unhealthyKubeProxyNodes(view.kubeProxy.pods),
  });
  const clusterSize = Math.max(knownNodes.length, ds?.status?.desiredNumberScheduled ?? 0);
  const facts: Facts = {
    nodeNames,
    nodesInScope: scope.nodes,
    scope,
    scopeNote: scopeNote(scope, clusterSize, view.target.service),
    knownNodes,
    clusterSize,
    selectedPods,
    endpoints,
    fqdnSlices:
      view.endpointSlices.state === 'collected'
        ? view.endpointSlices.value.filter((s) => s.addressType === 'FQDN').map((s) => s.metadata.name)
        : [],
    slicePorts: slicePortsOf(view.endpointSlices),
    servicePorts: service?.spec.ports ?? [],
    kubeProxyPodsByNode,
    mode: deriveMode(view, kubeProxyPodsByNode, kubeProxyLog),
    kubeProxyVersion: deriveKubeProxyVersion(view, kubeProxyLog),
    kubeProxyLog,
    captures,
  };
  return facts;
}

export function clientNodes(view: Pick<ClusterView, 'client'>): string[] | undefined {
  if (view.client?.state !== 'collected') return undefined;
  const nodes = [...new Set(view.client.value.pods.map(podNode).filter((n): n is string => !!n))].sort();
  return nodes.length > 0 ? nodes : undefined;
}

/** Node names from the node list, else from kube-proxy pods, else the target node. */
export function deriveNodeNames(
  nodeNames: ClusterView['nodeNames'],
  nodes: ClusterView['nodes'],
  kubeProxyPods: Collected<readonly Pod[]>,
  target: ClusterView['target'],
): string[] {
  // A bundle view may validate only the nodes in scope, and list every node's name.
  if (nodeNames?.state === 'collected') return [...nodeNames.value].sort();
  if (nodes.state === 'collected') return nodes.value.map((n) => n.metadata.name).sort();
  if (kubeProxyPods.state === 'collected') {
    return [...new Set(kubeProxyPods.value.map(podNode).filter((n): n is string => !!n))].sort();
  }
  return target.node ? [target.node] : [];
}

function groupByNode(pods: readonly Pod[]): Map<string, Pod[]> {
  const out = new Map<string, Pod[]>();
  for (const pod of pods) {
    const node = podNode(pod);
    if (!node) continue;
    const list = out.get(node);
    if (list) list.push(pod);
    else out.set(node, [pod]);
  }
  return out;
}

function selectPods(view: ClusterView): Collected<readonly Pod[]> {
  if (view.service.state === 'missing') return view.service;
  const selector = view.service.value?.spec.selector;
  if (view.namespacePods.state === 'missing') return view.namespacePods;
  return {
    state: 'collected',
    value: view.namespacePods.value.filter((p) => matchesServiceSelector(p.metadata.labels, selector)),
  };
}

function asMode(text: string | undefined | null): ProxyMode | undefined {
  const t = (text ?? '').trim().toLowerCase();
  if (t === 'iptables' || t === 'ipvs' || t === 'nftables') return t;
  return undefined;
}

export type ConfiguredMode = { mode: ProxyMode | undefined; raw: string | undefined; error?: string };

/** The `mode` of the KubeProxyConfiguration (parsed once per diagnosis, in the facts); blank means iptables on Linux. */
function configuredMode(view: ClusterView): ConfiguredMode {
  const cm = view.kubeProxy.configMap;
  if (cm.state === 'missing' || !cm.value?.key) return { mode: undefined, raw: undefined };
  const text = cm.value.configMap.data?.[cm.value.key] ?? '';
  try {
    const doc = parseYaml(text) as { mode?: unknown } | null;
    const raw = typeof doc?.mode === 'string' ? doc.mode : '';
    return { mode: raw === '' ? 'iptables' : (asMode(raw) ?? 'unknown'), raw };
  } catch (error) {
    return {
      mode: undefined,
      raw: undefined,
      error: error instanceof Error ? error.message.split('\n')[0] : String(error),
    };
  }
}

function deriveMode(
  view: ClusterView,
  podsByNode: ReadonlyMap<string, readonly Pod[]>,
  kubeProxyLog: Facts['kubeProxyLog'],
): ModeFacts {
  const evidence: string[] = [];
  const configured = configuredMode(view);
  if (
    configured.raw !== undefined &&
    view.kubeProxy.configMap.state === 'collected' &&
    view.kubeProxy.configMap.value
  ) {
    const { configMap, key } = view.kubeProxy.configMap.value;
    evidence.push(`ConfigMap kube-system/${configMap.metadata.name} ${key}: mode: "${configured.raw}"`);
  }
  const perNode = new Map<string, { mode: ProxyMode; source: string }>();
  const nodes = new Set([...view.nodeCaptures.keys(), ...podsByNode.keys()]);
  for (const node of [...nodes].sort()) {
    const proxyMode = view.nodeCaptures.get(node)?.proxyMode;
    const fromEndpoint = proxyMode?.state === 'collected' ? asMode(proxyMode.value) : undefined;
    if (fromEndpoint) {
      perNode.set(node, { mode: fromEndpoint, source: `${node} /proxyMode: ${fromEndpoint}` });
      continue;
    }
    for (const pod of podsByNode.get(node) ?? []) {
      const log = kubeProxyLog(pod.metadata.name, 'current');
      if (log.state === 'missing') continue;
      const line = log.value.find((l) => /"Using (iptables|ipvs|nftables) Proxier"/.test(l.message));
      const mode = line ? asMode(/Using (\w+) Proxier/.exec(line.message)?.[1]) : undefined;
      if (mode && line) perNode.set(node, { mode, source: `${pod.metadata.name} log: ${line.raw}` });
    }
  }
  const counts = new Map<ProxyMode, number>();
  for (const { mode } of perNode.values()) counts.set(mode, (counts.get(mode) ?? 0) + 1);
  const observed = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  for (const { source } of [...perNode.values()].slice(0, 3)) evidence.push(source);
  return {
    mode: observed ?? configured.mode ?? 'unknown',
    configured: configured.mode,
    configuration: configured,
    perNode,
    evidence,
  };
}

function deriveKubeProxyVersion(
  view: ClusterView,
  kubeProxyLog: Facts['kubeProxyLog'],
): KubeProxyVersion | undefined {
  const addon = view.eks.addons.get('kube-proxy');
  if (addon?.state === 'collected' && addon.value.addon.addonVersion) {
    return {
      version: addon.value.addon.addonVersion,
      source: `EKS add-on kube-proxy addonVersion: ${addon.value.addon.addonVersion}`,
    };
  }
  const ds = view.kubeProxy.daemonSet;
  if (ds.state === 'collected' && ds.value) {
    const container =
      ds.value.spec.template.spec.containers.find((c) => c.name === 'kube-proxy') ??
      ds.value.spec.template.spec.containers[0];
    const tag = imageTag(container?.image);
    if (tag && /^v?\d+\.\d+/.test(tag)) {
      return { version: tag, source: `DaemonSet kube-system/kube-proxy image: ${container?.image}` };
    }
  }
  for (const pod of view.kubeProxy.logs.keys()) {
    const log = kubeProxyLog(pod, 'current');
    if (log.state === 'missing') continue;
    const line = log.value.find((l) => l.message.startsWith('"Version info"'));
    const version = line ? klogValue(line.message, 'version') : undefined;
    if (version && line) return { version, source: `${pod} log: ${line.raw}` };
  }
  return undefined;
}
