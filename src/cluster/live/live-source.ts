/**
 * LiveSource: a ClusterView from a running cluster through @kubernetes/client-node.
 * It reads only what the diagnosis of the target needs, with targeted calls (label and
 * field selectors, single gets, per-node reads for the affected nodes only), into an
 * in-memory bundle, and builds the view with the same code as BundleSource. So a live
 * diagnosis and the diagnosis of a bundle of the same cluster agree, and
 * `kproxy collect` writes exactly what was read.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { KproxyError, UsageError } from '../../errors.js';
import { buildView, resolveTarget } from '../bundle/bundle-source.js';
import { bundleLimits } from '../bundle/limits.js';
import type { BundleManifest } from '../bundle/manifest.js';
import { MemoryBundle } from '../bundle/memory.js';
import type { DaemonSet, Pod } from '../kube-types.js';
import { cniAgentNames, kubeProxyConfigMapNames, serviceNameLabel } from '../selectors.js';
import type { ClusterSource, LoadRequest } from '../source.js';
import type { ClusterView, Target } from '../view.js';
import { needsEveryKubeProxyPod } from './blast-radius.js';
import { readClientInto } from './client-reader.js';
import { type ApiCall, type Fetched, KubeHttp, type KubeHttpOptions } from './kube-http.js';
import { call, listDoc, withKind } from './list-docs.js';
import {
  captureByDebugPod,
  captureByExec,
  type DebugPodOptions,
  defaultDebugPod,
  type NodeCaptureMode,
} from './node-captures.js';

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
  readonly http?: KubeHttpOptions;
  /** Most nodes whose logs and captures are read when the target names no node. @defaultValue 3 */
  readonly maxAffectedNodes?: number;
  readonly onProgress?: (step: string) => void;
  /** Extra documents of the cluster's provider (EKS: `eks/cluster.json`, `eks/addons/*.json`). */
  readonly provider?: { readInto(bundle: MemoryBundle): Promise<void> };
}

type Query = Record<string, string | undefined>;

const ks = 'kube-system';

export class LiveSource implements ClusterSource {
  readonly description: string;
  readonly http: KubeHttp;
  private readonly clusterName: string;

  constructor(private readonly options: LiveSourceOptions = {}) {
    const kc = options.kubeConfig ?? loadKubeConfig(options.kubeconfigPath, options.context);
    this.http = new KubeHttp(kc, options.http);
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
    const target: Target = request.clusterWide
      ? { node: request.target?.node }
      : resolveTarget(
          { apiVersion: 'kproxy/v1', kind: 'Bundle', cluster: this.clusterName, collectedAt: '', target: {} },
          request.target,
        );
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
      },
    };
    const bundle = new MemoryBundle();
    bundle.set('bundle.json', { content: JSON.stringify(manifest, null, 2) });
    const progress = this.options.onProgress ?? (() => {});

    progress('Service, endpoints, nodes and kube-system objects');
    const [service, daemonSets, version] = await Promise.all([
      this.readService(bundle, target),
      this.listInto(
        bundle,
        `namespaces/${ks}/daemonsets.json`,
        'DaemonSet',
        'apps/v1',
        `/apis/apps/v1/namespaces/${ks}/daemonsets`,
        {},
        call('list', 'daemonsets.apps', ks),
      ),
      this.getInto(bundle, 'version.json', '/version', call('get', 'version (nonResourceURL /version)')),
      this.readNodes(bundle, target),
      this.readEndpointSlices(bundle, target),
      this.readNetworkPolicies(bundle, target),
      this.readEvents(bundle, target),
      this.readDns(bundle),
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

    progress('Backend pods, kube-proxy pods and configuration');
    const [, systemPods] = await Promise.all([
      this.readBackendPods(bundle, target, service),
      this.readSystemPods(bundle, target, needsEveryKubeProxyPod(kubeProxyDs, version)),
      this.readConfigMaps(bundle, kubeProxyDs),
    ]);

    const clientNodes = target.from
      ? await readClientInto(this.http, bundle, target.from, target.namespace)
      : [];
    const affected =
      target.node || clientNodes.length === 0
        ? this.affectedNodes(target, systemPods)
        : clientNodes.slice(0, this.options.maxAffectedNodes ?? 3);
    for (const node of affected) {
      progress(`Node ${node}: kube-proxy logs, health, metrics and captures`);
      await this.readNode(bundle, node, systemPods);
    }
    return { bundle, manifest, target };
  }

  private async readService(
    bundle: MemoryBundle,
    target: Target,
  ): Promise<Fetched<{ spec?: { selector?: Record<string, string> } } | undefined>> {
    if (!target.namespace || !target.service) return { ok: true, value: undefined };
    const rel = `namespaces/${target.namespace}/services.json`;
    const got = await this.http.getJson<Record<string, unknown>>(
      `/api/v1/namespaces/${target.namespace}/services/${target.service}`,
      {},
      call('get', 'services', target.namespace),
    );
    if (!got.ok && got.status !== 404) {
      bundle.set(rel, { missing: got.reason });
      return got;
    }
    const items = got.ok ? [withKind(got.value, 'Service', 'v1')] : [];
    bundle.set(rel, { content: listDoc(items) });
    return {
      ok: true,
      value: got.ok ? (got.value as { spec?: { selector?: Record<string, string> } }) : undefined,
    };
  }

  private async readNodes(bundle: MemoryBundle, target: Target): Promise<void> {
    if (!target.node) {
      await this.listInto(bundle, 'nodes.json', 'Node', 'v1', '/api/v1/nodes', {}, call('list', 'nodes'));
      return;
    }
    const got = await this.http.getJson<Record<string, unknown>>(
      `/api/v1/nodes/${target.node}`,
      {},
      call('get', 'nodes'),
    );
    if (!got.ok && got.status === 404) throw await this.nodeNotFound(target.node);
    if (!got.ok) bundle.set('nodes.json', { missing: got.reason });
    else bundle.set('nodes.json', { content: listDoc([withKind(got.value, 'Node', 'v1')]) });
  }

  /** A node the API says does not exist: a mistake in the request, named with a few real ones. */
  private async nodeNotFound(node: string): Promise<UsageError> {
    const some = await this.http.getJson<{ items?: { metadata?: { name?: string } }[] }>(
      '/api/v1/nodes',
      { limit: '10' },
      call('list', 'nodes'),
    );
    const names = some.ok ? (some.value.items ?? []).map((n) => n.metadata?.name).filter(Boolean) : [];
    return new UsageError(
      names.length > 0
        ? `node ${node} not found; nodes are ${names.join(', ')}${names.length === 10 ? ', …' : ''}`
        : `node ${node} not found`,
    );
  }

  private async readEndpointSlices(bundle: MemoryBundle, target: Target): Promise<void> {
    if (!target.namespace || !target.service) return;
    await this.listInto(
      bundle,
      `namespaces/${target.namespace}/endpointslices.json`,
      'EndpointSlice',
      'discovery.k8s.io/v1',
      `/apis/discovery.k8s.io/v1/namespaces/${target.namespace}/endpointslices`,
      { labelSelector: `${serviceNameLabel}=${target.service}` },
      call('list', 'endpointslices.discovery.k8s.io', target.namespace),
    );
  }

  private async readNetworkPolicies(bundle: MemoryBundle, target: Target): Promise<void> {
    if (!target.namespace) return;
    await this.listInto(
      bundle,
      `namespaces/${target.namespace}/networkpolicies.json`,
      'NetworkPolicy',
      'networking.k8s.io/v1',
      `/apis/networking.k8s.io/v1/namespaces/${target.namespace}/networkpolicies`,
      {},
      call('list', 'networkpolicies.networking.k8s.io', target.namespace),
    );
  }

  /** The target namespace's events, kube-system's warnings, and node events (kept in default). */
  private async readEvents(bundle: MemoryBundle, target: Target): Promise<void> {
    const selectors = new Map<string, Query>([
      [ks, { fieldSelector: 'type=Warning' }],
      ['default', { fieldSelector: 'involvedObject.kind=Node' }],
    ]);
    if (target.namespace) selectors.set(target.namespace, {});
    await Promise.all(
      [...selectors].map(([ns, query]) =>
        this.listInto(
          bundle,
          `namespaces/${ns}/events.json`,
          'Event',
          'v1',
          `/api/v1/namespaces/${ns}/events`,
          query,
          call('list', 'events', ns),
          true,
        ),
      ),
    );
  }

  private async readDns(bundle: MemoryBundle): Promise<void> {
    const [svc, , deploy] = await Promise.all([
      this.http.getJson<Record<string, unknown>>(
        `/api/v1/namespaces/${ks}/services/kube-dns`,
        {},
        call('get', 'services', ks),
      ),
      this.listInto(
        bundle,
        `namespaces/${ks}/endpointslices.json`,
        'EndpointSlice',
        'discovery.k8s.io/v1',
        `/apis/discovery.k8s.io/v1/namespaces/${ks}/endpointslices`,
        { labelSelector: `${serviceNameLabel}=kube-dns` },
        call('list', 'endpointslices.discovery.k8s.io', ks),
      ),
      this.http.getJson<Record<string, unknown>>(
        `/apis/apps/v1/namespaces/${ks}/deployments/coredns`,
        {},
        call('get', 'deployments.apps', ks),
      ),
    ]);
    setOneOrNone(bundle, `namespaces/${ks}/services.json`, svc, 'Service', 'v1');
    setOneOrNone(bundle, `namespaces/${ks}/deployments.json`, deploy, 'Deployment', 'apps/v1');
  }

  /** Pods the Service selects; when none, one page of the namespace to explain a selector typo. */
  private async readBackendPods(
    bundle: MemoryBundle,
    target: Target,
    service: Fetched<{ spec?: { selector?: Record<string, string> } } | undefined>,
  ): Promise<void> {
    if (!target.namespace) return;
    const rel = `namespaces/${target.namespace}/pods.json`;
    const selector = service.ok ? service.value?.spec?.selector : undefined;
    if (!selector || Object.keys(selector).length === 0) {
      bundle.set(rel, service.ok ? { content: listDoc([]) } : { missing: service.reason });
      return;
    }
    const podsCall = call('list', 'pods', target.namespace);
    const path = `/api/v1/namespaces/${target.namespace}/pods`;
    const selected = await this.http.listAll(
      path,
      {
        labelSelector: Object.entries(selector)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      },
      podsCall,
    );
    if (!selected.ok) {
      bundle.set(rel, { missing: selected.reason });
      return;
    }
    let items = selected.value.items;
    if (items.length === 0) {
      const page = await this.http.getJson<{ items?: unknown[] }>(path, { limit: 500 }, podsCall);
      if (page.ok) items = page.value.items ?? [];
    }
    bundle.set(rel, { content: listDoc(items.map((i) => withKind(i, 'Pod', 'v1'))) });
  }

  /**
   * kube-system pods a diagnosis reads: kube-proxy (on the target node, or all), CNI
   * agents (on the target node, or all), CoreDNS. With a target node, one field-selected
   * list returns both kube-proxy and the CNI agent there.
   */
  private async readSystemPods(
    bundle: MemoryBundle,
    target: Target,
    everyKubeProxy: boolean,
  ): Promise<Pod[]> {
    const path = `/api/v1/namespaces/${ks}/pods`;
    const podsCall = call('list', 'pods', ks);
    const lists = await Promise.all(
      target.node
        ? [
            this.http.listAll(path, { fieldSelector: `spec.nodeName=${target.node}` }, podsCall),
            // The blast radius: every kube-proxy pod, only when the DaemonSet shows trouble.
            ...(everyKubeProxy
              ? [this.http.listAll(path, { labelSelector: 'k8s-app=kube-proxy' }, podsCall)]
              : []),
          ]
        : [
            this.http.listAll(path, { labelSelector: 'k8s-app=kube-proxy' }, podsCall),
            this.http.listAll(
              path,
              {
                labelSelector: `k8s-app in (${cniAgentNames.filter((n) => !n.startsWith('kube-flannel-ds')).join(',')})`,
              },
              podsCall,
            ),
          ].concat([]),
    );
    const dns = await this.http.listAll(path, { labelSelector: 'k8s-app=kube-dns' }, podsCall);
    const failed = [...lists, dns].find((l) => !l.ok);
    if (failed && !failed.ok) {
      bundle.set(`namespaces/${ks}/pods.json`, { missing: failed.reason });
      return [];
    }
    const byName = new Map<string, unknown>();
    for (const l of [...lists, dns])
      if (l.ok)
        for (const item of l.value.items)
          byName.set((item as Pod).metadata.name, withKind(item, 'Pod', 'v1'));
    const pods = [...byName.values()];
    bundle.set(`namespaces/${ks}/pods.json`, { content: listDoc(pods) });
    return pods as Pod[];
  }

  private async readConfigMaps(bundle: MemoryBundle, ds: DaemonSet | undefined): Promise<void> {
    const rel = `namespaces/${ks}/configmaps.json`;
    const found: unknown[] = [];
    for (const name of kubeProxyConfigMapNames(ds)) {
      const got = await this.http.getJson<Record<string, unknown>>(
        `/api/v1/namespaces/${ks}/configmaps/${name}`,
        {},
        call('get', 'configmaps', ks),
      );
      if (got.ok) found.push(withKind(got.value, 'ConfigMap', 'v1'));
      else if (got.status !== 404) {
        bundle.set(rel, { missing: got.reason });
        return;
      }
    }
    bundle.set(rel, { content: listDoc(found) });
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

  private async readNode(bundle: MemoryBundle, node: string, systemPods: readonly Pod[]): Promise<void> {
    const kubeProxy = systemPods.find(
      (p) => p.spec.nodeName === node && p.metadata.labels?.['k8s-app'] === 'kube-proxy',
    );
    const proxyCall = call('get', 'nodes/proxy');
    const proxyGet = (port: number, path: string, file: string) =>
      this.http
        .getText(`/api/v1/nodes/${node}:${port}/proxy/${path}`, {}, proxyCall)
        .then((r) =>
          bundle.set(`nodes/${node}/${file}`, r.ok ? { content: r.value } : { missing: r.reason }),
        );
    const tasks: Promise<unknown>[] = [
      proxyGet(10256, 'healthz', 'healthz.json'),
      proxyGet(10249, 'metrics', 'metrics.txt'),
      proxyGet(10249, 'proxyMode', 'proxy-mode.txt'),
    ];
    if (kubeProxy) tasks.push(this.readKubeProxyLogs(bundle, kubeProxy));
    await Promise.all(tasks);

    const mode = this.options.nodeCaptures ?? 'exec';
    if (mode === 'off') return;
    if (mode === 'debug-pod') {
      await captureByDebugPod(this.http, bundle, node, { ...defaultDebugPod, ...this.options.debugPod });
      return;
    }
    if (!kubeProxy) {
      bundle.set(`nodes/${node}/iptables-save.txt`, { missing: `no kube-proxy pod on ${node} to exec into` });
      return;
    }
    const proxyMode = await bundle.readText(`nodes/${node}/proxy-mode.txt`);
    const container =
      kubeProxy.spec.containers.find((c) => c.name === 'kube-proxy')?.name ??
      kubeProxy.spec.containers[0]?.name ??
      'kube-proxy';
    await captureByExec(
      this.http,
      bundle,
      node,
      kubeProxy.metadata.name,
      container,
      proxyMode.state === 'collected' ? proxyMode.value.trim() : 'iptables',
    );
  }

  private async readKubeProxyLogs(bundle: MemoryBundle, pod: Pod): Promise<void> {
    const name = pod.metadata.name;
    const container =
      pod.spec.containers.find((c) => c.name === 'kube-proxy')?.name ??
      pod.spec.containers[0]?.name ??
      'kube-proxy';
    const base = `logs/${ks}/${name}/${container}`;
    const logCall = call('get', 'pods/log', ks);
    const path = `/api/v1/namespaces/${ks}/pods/${name}/log`;
    const restarted = (pod.status?.containerStatuses ?? []).some((c) => c.restartCount > 0);
    const waiting = (pod.status?.containerStatuses ?? []).some((c) => c.state?.waiting);
    const [current, previous] = await Promise.all([
      waiting
        ? Promise.resolve(undefined)
        : this.http.getText(path, { container, tailLines: bundleLimits.logTailLines }, logCall),
      restarted
        ? this.http.getText(
            path,
            { container, tailLines: bundleLimits.logTailLines, previous: true },
            logCall,
          )
        : Promise.resolve(undefined),
    ]);
    if (current)
      bundle.set(`${base}.log`, current.ok ? { content: current.value } : { missing: current.reason });
    if (previous?.ok) bundle.set(`${base}.previous.log`, { content: previous.value });
  }

  private async getInto(
    bundle: MemoryBundle,
    rel: string,
    path: string,
    apiCall: ApiCall,
  ): Promise<Fetched<string>> {
    const got = await this.http.getText(path, {}, apiCall);
    bundle.set(rel, got.ok ? { content: got.value } : { missing: got.reason });
    return got;
  }

  /** A list into the bundle as `kubectl get -o json` prints it (a v1 List with kinds on items). */
  private async listInto(
    bundle: MemoryBundle,
    rel: string,
    kind: string,
    apiVersion: string,
    path: string,
    query: Query,
    apiCall: ApiCall,
    recentOnly = false,
  ): Promise<Fetched<unknown[]>> {
    const got = recentOnly
      ? await this.http
          .getJson<{ items?: unknown[] }>(path, { ...query, limit: '500' }, apiCall)
          .then(
            (r): Fetched<{ items: unknown[] }> =>
              r.ok ? { ok: true, value: { items: r.value.items ?? [] } } : r,
          )
      : await this.http.listAll(path, query, apiCall);
    if (!got.ok) {
      bundle.set(rel, { missing: got.reason });
      return got;
    }
    const items = got.value.items.map((i) => withKind(i, kind, apiVersion));
    bundle.set(rel, { content: listDoc(items) });
    return { ok: true, value: items };
  }
}

function setOneOrNone(
  bundle: MemoryBundle,
  rel: string,
  got: Fetched<Record<string, unknown>>,
  kind: string,
  apiVersion: string,
): void {
  if (!got.ok && got.status !== 404) bundle.set(rel, { missing: got.reason });
  else bundle.set(rel, { content: listDoc(got.ok ? [withKind(got.value, kind, apiVersion)] : []) });
}

function loadKubeConfig(path: string | undefined, context: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  if (context) kc.setCurrentContext(context);
  return kc;
}

function isVersionInfo(body: string): boolean {
  try {
    const doc = JSON.parse(body) as { gitVersion?: unknown } | null;
    return typeof doc?.gitVersion === 'string';
  } catch {
    return false;
  }
}
