/**
 * The object reads of a live diagnosis: each into the in-memory bundle as `kubectl get -o
 * json` prints it (a v1 List with kinds on items), or as missing with the reason.
 */

import { UsageError } from '../../errors.js';
import type { MemoryBundle } from '../bundle/memory.js';
import type { DaemonSet, Pod } from '../kube-types.js';
import { cniAgentNames, kubeProxyConfigMapNames, serviceNameLabel } from '../selectors.js';
import type { Target } from '../view.js';
import type { ApiCall, Fetched, KubeHttp } from './kube-http.js';
import { call, listDoc, withKind } from './list-docs.js';

type Query = Record<string, string | undefined>;

const ks = 'kube-system';

export class ObjectReader {
  constructor(private readonly http: KubeHttp) {}

  async readService(
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

  async readNodes(bundle: MemoryBundle, target: Target): Promise<void> {
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

  async readEndpointSlices(bundle: MemoryBundle, target: Target): Promise<void> {
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

  async readNetworkPolicies(bundle: MemoryBundle, target: Target): Promise<void> {
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
  async readEvents(bundle: MemoryBundle, target: Target): Promise<void> {
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

  async readDns(bundle: MemoryBundle): Promise<void> {
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
  async readBackendPods(
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
  async readSystemPods(bundle: MemoryBundle, target: Target, everyKubeProxy: boolean): Promise<Pod[]> {
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

  async readConfigMaps(bundle: MemoryBundle, ds: DaemonSet | undefined): Promise<void> {
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

  async getInto(bundle: MemoryBundle, rel: string, path: string, apiCall: ApiCall): Promise<Fetched<string>> {
    const got = await this.http.getText(path, {}, apiCall);
    bundle.set(rel, got.ok ? { content: got.value } : { missing: got.reason });
    return got;
  }

  /** A list into the bundle as `kubectl get -o json` prints it (a v1 List with kinds on items). */
  async listInto(
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
