/**
 * The per-node reads of a Service-, node- or client-scoped live diagnosis: the nodes in
 * scope are chosen by the engine's own rule (checks/lib/scope.ts) from the Service's
 * EndpointSlices, the client's pods and, when the DaemonSet shows trouble, every kube-proxy
 * pod; then each node in scope is read by name (GET /api/v1/nodes/NAME, kube-system pods
 * with `fieldSelector=spec.nodeName=NAME`). So requests and bytes do not grow with the
 * cluster: a 5,000-node cluster costs what a 100-node one does. What the DaemonSet's status
 * says (desired/ready/unavailable) still covers every node.
 */
import { endpointsOf } from '../../checks/lib/endpoints.js';
import { endpointNodes, nodeScope, unhealthyKubeProxyNodes } from '../../checks/lib/scope.js';
import type { MemoryBundle } from '../bundle/memory.js';
import { collected } from '../collected.js';
import { type DaemonSet, type EndpointSlice, endpointSliceSchema, type Pod } from '../kube-types.js';
import type { Target } from '../view.js';
import { readClientInto } from './client-reader.js';
import type { Fetched, KubeHttp } from './kube-http.js';
import { call, listDoc, withKind } from './list-docs.js';
import type { ObjectReader } from './object-reads.js';

const ks = 'kube-system';

export interface ScopedInputs {
  readonly service: Fetched<{ spec?: { selector?: Record<string, string> } } | undefined>;
  readonly kubeProxyDs: DaemonSet | undefined;
  /** The DaemonSet shows trouble or skew: every kube-proxy pod is read (blast-radius.ts). */
  readonly everyKubeProxy: boolean;
}

export async function readScoped(
  http: KubeHttp,
  reader: ObjectReader,
  bundle: MemoryBundle,
  target: Target,
  inputs: ScopedInputs,
): Promise<{ nodes: readonly string[]; systemPods: Pod[] }> {
  const podsPath = `/api/v1/namespaces/${ks}/pods`;
  const podsCall = call('list', 'pods', ks);
  const [, , every] = await Promise.all([
    reader.readBackendPods(bundle, target, inputs.service),
    reader.readConfigMaps(bundle, inputs.kubeProxyDs),
    inputs.everyKubeProxy
      ? http.listAll(podsPath, { labelSelector: 'k8s-app=kube-proxy' }, podsCall)
      : Promise.resolve(undefined),
  ]);
  // After the backend pods: the client's pods merge into the same namespace's list.
  const clientNodes = target.from
    ? await readClientInto(http, bundle, target.from, target.namespace)
    : undefined;
  const everyPods = every?.ok ? (every.value.items as Pod[]) : [];
  const scope = nodeScope({
    target,
    allNodes: [],
    clientNodes,
    endpointNodes: endpointNodes(endpointsOf(collected(await sliceObjects(bundle, target)))),
    unhealthyKubeProxyNodes: unhealthyKubeProxyNodes(collected(everyPods)),
  });
  const [perNode, dns] = await Promise.all([
    Promise.all(
      scope.nodes.map((node) => http.listAll(podsPath, { fieldSelector: `spec.nodeName=${node}` }, podsCall)),
    ),
    http.listAll(podsPath, { labelSelector: 'k8s-app=kube-dns' }, podsCall),
    target.node ? undefined : readNodesByName(http, bundle, scope.nodes),
  ]);
  const lists = [...perNode, dns, ...(every ? [every] : [])];
  const failed = lists.find((l) => !l.ok);
  if (failed && !failed.ok) {
    bundle.set(`namespaces/${ks}/pods.json`, { missing: failed.reason });
    return { nodes: scope.nodes, systemPods: [] };
  }
  const byName = new Map<string, unknown>();
  for (const l of lists)
    if (l.ok)
      for (const item of l.value.items) byName.set((item as Pod).metadata.name, withKind(item, 'Pod', 'v1'));
  const systemPods = [...byName.values()];
  bundle.set(`namespaces/${ks}/pods.json`, { content: listDoc(systemPods) });
  return { nodes: scope.nodes, systemPods: systemPods as Pod[] };
}

/** The target Service's slices as read (parsed, valid ones only: the view reports invalid ones). */
async function sliceObjects(bundle: MemoryBundle, target: Target): Promise<EndpointSlice[]> {
  if (!target.namespace || !target.service) return [];
  const doc = await bundle.readJson(`namespaces/${target.namespace}/endpointslices.json`);
  if (doc.state === 'missing') return [];
  const items = (doc.value as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) return [];
  return items.flatMap((i) => {
    const parsed = endpointSliceSchema.safeParse(i);
    return parsed.success ? [parsed.data] : [];
  });
}

/** The nodes in scope, each by name: a node that does not exist is left out (the checks say so). */
async function readNodesByName(
  http: KubeHttp,
  bundle: MemoryBundle,
  nodes: readonly string[],
): Promise<void> {
  const got = await Promise.all(
    nodes.map((n) => http.getJson<Record<string, unknown>>(`/api/v1/nodes/${n}`, {}, call('get', 'nodes'))),
  );
  const failed = got.find((g) => !g.ok && g.status !== 404);
  if (failed && !failed.ok) {
    bundle.set('nodes.json', { missing: failed.reason });
    return;
  }
  bundle.set('nodes.json', {
    content: listDoc(got.flatMap((g) => (g.ok ? [withKind(g.value, 'Node', 'v1')] : []))),
  });
}
