/**
 * LiveSource: a ClusterView from a running cluster through @kubernetes/client-node.
 * It reads only what the diagnosis of the target needs, with targeted calls (label and
 * field selectors, single gets, per-node reads for the affected nodes only), into an
 * in-memory bundle, and builds the view with the same code as BundleSource. So a live
 * diagnosis and the diagnosis of a bundle of the same cluster agree, and
 * `kproxy collect` writes exactly what was read.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { KproxyError } from '../../errors.js';
import { buildView, resolveTarget } from '../bundle/bundle-source.js';
import type { BundleManifest } from '../bundle/manifest.js';
import { MemoryBundle } from '../bundle/memory.js';
import type { DaemonSet, Pod } from '../kube-types.js';
import type { ClusterSource, LoadRequest } from '../source.js';
import type { ClusterView, Target } from '../view.js';
import { gitVersionOf, needsEveryKubeProxyPod } from './blast-radius.js';
import { KubeHttp, type KubeHttpOptions } from './kube-http.js';
import type { ProxyVia } from './kube-proxy-endpoints.js';
import { call } from './list-docs.js';
import { type DebugPodOptions, defaultDebugPod, type NodeCaptureMode } from './node-captures.js';
import { readNode } from './node-reads.js';
import { readNorthSouthInto, readRouteInto } from './north-south-reads.js';
import { ObjectReader } from './object-reads.js';
import { defaultProbe, type ProbeOptions } from './probe-pod.js';
import { probeInto } from './probe-reads.js';
import { readScoped } from './scoped-reads.js';

export interface LiveSourceOptions {
  /** A loaded kubeconfig (EKS sources build one); otherwise `kubeconfig`/`context` are loaded. */
  readonly kubeConfig?: KubeConfig;
  readonly kubeconfigPath?: string;
  readonly context?: string;
  /** Name of the cluster in reports. @defaultValue the context name */
  readonly clusterName?: string;
  /** @defaultValue exec */
  readonly nodeCaptures?: NodeCaptureMode;
  readonly debugPod?: Partial<DebugPodOptions>;
  /** The client's-eye probe (`probe: debug-pod`, opt-in per cluster). @defaultValue off */
  readonly probe?: Partial<ProbeOptions>;
  /** How kube-proxy's healthz and metrics are reached: `nodes/proxy` or `pods/proxy`. @defaultValue nodes */
  readonly proxyVia?: ProxyVia;
  readonly http?: KubeHttpOptions;
  /** Cluster-wide: most nodes whose logs and captures are read. @defaultValue 3 */
  readonly maxAffectedNodes?: number;
  readonly onProgress?: (step: string) => void;
  /** Extra documents of the cluster's provider (EKS: `eks/cluster.json`, `eks/addons/*.json`). */
  readonly provider?: {
    readInto(bundle: MemoryBundle): Promise<void>;
    /** After the node reads, for the affected nodes (EKS: their EC2 path, the audit log). */
    readNodesInto?(
      bundle: MemoryBundle,
      nodes: readonly string[],
      target: Target,
      until: Date,
    ): Promise<void>;
  };
}

const ks = 'kube-system';

export class LiveSource implements ClusterSource {
  readonly description: string;
  readonly http: KubeHttp;
  private readonly clusterName: string;
  private readonly reader: ObjectReader;

  constructor(private readonly options: LiveSourceOptions = {}) {
    const kc = options.kubeConfig ?? loadKubeConfig(options.kubeconfigPath, options.context);
    this.http = new KubeHttp(kc, options.http);
    this.reader = new ObjectReader(this.http);
    this.clusterName = options.clusterName ?? kc.getCurrentContext();
    this.description = `context ${kc.getCurrentContext()}`;
  }

  async load(request: LoadRequest = {}): Promise<ClusterView> {
    const { bundle, manifest, target } = await this.collect(request);
    return buildView(bundle, manifest, target, this.description);
  }

  async close(): Promise<void> {}

  /** Reads the cluster into an in-memory bundle (what `kproxy collect` writes out). */
  async collect(
    request: LoadRequest = {},
  ): Promise<{ bundle: MemoryBundle; manifest: BundleManifest; target: Target }> {
    const bundle = new MemoryBundle();
    const requested: Target = request.clusterWide
      ? { node: request.target?.node }
      : resolveTarget(
          { apiVersion: 'kproxy/v1', kind: 'Bundle', cluster: this.clusterName, collectedAt: '', target: {} },
          request.target,
        );
    // A route target names its Service: read the route first (a route that does not exist is a bad target).
    const target = requested.route ? await readRouteInto(this.http, bundle, requested) : requested;
    const manifest: { -readonly [K in keyof BundleManifest]: BundleManifest[K] } = {
      apiVersion: 'kproxy/v1',
      kind: 'Bundle',
      cluster: this.clusterName,
      collectedAt: new Date().toISOString(),
      target: {
        namespace: target.namespace ?? null,
        service: target.service ?? null,
        node: target.node ?? null,
        from: target.from ? `${target.from.namespace}/${target.from.name}` : null,
        ...(target.route ? { route: target.route } : {}),
      },
    };
    bundle.set('bundle.json', { content: JSON.stringify(manifest, null, 2) });
    const progress = this.options.onProgress ?? (() => {});

    // Cluster-wide (no Service, node or client) every node is in scope (checks/lib/scope.ts).
    const scoped = !!(target.node || target.service || target.from);
    progress('Service, endpoints, nodes and kube-system objects');
    const [service, daemonSets, version] = await Promise.all([
      this.reader.readService(bundle, target),
      this.reader.listInto(
        bundle,
        `namespaces/${ks}/daemonsets.json`,
        'DaemonSet',
        'apps/v1',
        `/apis/apps/v1/namespaces/${ks}/daemonsets`,
        {},
        call('list', 'daemonsets.apps', ks),
      ),
      this.reader.getInto(
        bundle,
        'version.json',
        '/version',
        call('get', 'version (nonResourceURL /version)'),
      ),
      // A Service- or client-scoped diagnosis reads only the nodes in scope (below).
      scoped && !target.node ? undefined : this.reader.readNodes(bundle, target),
      this.reader.readEndpointSlices(bundle, target),
      this.reader.readNetworkPolicies(bundle, target),
      this.reader.readEvents(bundle, target),
      this.reader.readDns(bundle),
      this.options.provider?.readInto(bundle),
    ]);
    // No answer at all (unreachable, timed out, credentials rejected) is not a diagnosis: say so.
    if (!version.ok && (version.status === 0 || version.status === 401)) {
      throw new KproxyError(
        'source_failed',
        `cannot use the Kubernetes API of ${this.description}: ${version.reason}`,
      );
    }
    // Every kube-apiserver serves /version to anyone (system:public-info-viewer) as JSON with
    // gitVersion (k8s.io/apimachinery pkg/version.Info): a 404 or another body is not one.
    if ((!version.ok && version.status === 404) || (version.ok && !isVersionInfo(version.value))) {
      throw new KproxyError(
        'source_failed',
        `${this.description} is not a Kubernetes API server: /version answered ${version.ok ? `"${version.value.trim().slice(0, 60)}"` : 'HTTP 404'}`,
      );
    }
    // Judge recency ("errors in the last minutes", "sync hung for 60 s") by the cluster's clock, not the bot's.
    manifest.collectedAt = (this.http.serverDate ?? new Date()).toISOString();
    bundle.set('bundle.json', { content: JSON.stringify(manifest, null, 2) });
    const kubeProxyDs = daemonSets.ok
      ? (daemonSets.value.find((d) => (d as DaemonSet).metadata.name === 'kube-proxy') as
          | DaemonSet
          | undefined)
      : undefined;

    const everyKubeProxy = needsEveryKubeProxyPod(
      kubeProxyDs,
      version.ok ? gitVersionOf(version.value) : undefined,
    );
    const nodeReads = {
      nodeCaptures: this.options.nodeCaptures ?? 'exec',
      debugPod: { ...defaultDebugPod, ...this.options.debugPod },
      proxyVia: this.options.proxyVia ?? 'nodes',
    } as const;
    progress('Backend pods, kube-proxy pods and configuration');
    const { nodes: affected, systemPods } = scoped
      ? await readScoped(this.http, this.reader, bundle, target, { service, kubeProxyDs, everyKubeProxy })
      : await this.readClusterWide(bundle, target, service, kubeProxyDs, everyKubeProxy);

    if (target.route || (service.ok && isLoadBalancer(service.value))) {
      progress('Ingress, controllers, load balancer and target groups');
      await readNorthSouthInto(this.http, this.reader, bundle, target);
    }
    for (const node of affected) {
      progress(`Node ${node}: kube-proxy logs, health, metrics and captures`);
      await readNode(this.http, bundle, node, systemPods, nodeReads);
    }
    const probe = { ...defaultProbe, ...this.options.probe };
    if (probe.mode === 'debug-pod' && !request.clusterWide && affected.length > 0) {
      await probeInto(this.http, bundle, manifest, target, affected, probe, progress);
    }
    if (this.options.provider?.readNodesInto) {
      progress("EKS: the nodes' path to the control plane, the audit log");
      await this.options.provider.readNodesInto(bundle, affected, target, new Date(manifest.collectedAt));
    }
    return { bundle, manifest, target };
  }

  /** Cluster-wide: every node and kube-proxy pod is read; logs and captures of a few nodes. */
  private async readClusterWide(
    bundle: MemoryBundle,
    target: Target,
    service: Awaited<ReturnType<ObjectReader['readService']>>,
    kubeProxyDs: DaemonSet | undefined,
    everyKubeProxy: boolean,
  ): Promise<{ nodes: readonly string[]; systemPods: Pod[] }> {
    const [, systemPods] = await Promise.all([
      this.reader.readBackendPods(bundle, target, service),
      this.reader.readSystemPods(bundle, target, everyKubeProxy),
      this.reader.readConfigMaps(bundle, kubeProxyDs),
    ]);
    return { nodes: this.affectedNodes(target, systemPods), systemPods };
  }

  /** The target node; else nodes whose kube-proxy is unhealthy; else nodes of the first pods. */
  private affectedNodes(target: Target, systemPods: readonly Pod[]): string[] {
    if (target.node) return [target.node];
    const max = this.options.maxAffectedNodes ?? 3;
    const kubeProxy = systemPods.filter(
      (p) => p.metadata.labels?.['k8s-app'] === 'kube-proxy' && p.spec.nodeName,
    );
    const unhealthy = kubeProxy.filter(
      (p) =>
        !(p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') ||
        (p.status?.containerStatuses ?? []).some((c) => c.restartCount > 0),
    );
    const chosen = (unhealthy.length > 0 ? unhealthy : kubeProxy).map((p) => p.spec.nodeName as string);
    return [...new Set(chosen)].sort().slice(0, max);
  }
}

function loadKubeConfig(path: string | undefined, context: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  if (context) kc.setCurrentContext(context);
  return kc;
}

function isLoadBalancer(service: unknown): boolean {
  return (service as { spec?: { type?: string } } | undefined)?.spec?.type === 'LoadBalancer';
}

function isVersionInfo(body: string): boolean {
  try {
    const doc = JSON.parse(body) as { gitVersion?: unknown } | null;
    return typeof doc?.gitVersion === 'string';
  } catch {
    return false;
  }
}
