/**
 * The live source's reads for a named client (`--from NS/NAME`), into the bundle layout
 * the bundle source reads: the Pod of that name, or the Deployment / StatefulSet /
 * DaemonSet of that name and the pods its selector picks (merged into
 * `namespaces/<ns>/pods.json`), `namespaces.json` with the client's and the Service's
 * namespaces (their labels decide namespaceSelector peers), and the client namespace's
 * NetworkPolicies (its egress). Returns the nodes of the client pods.
 */
import type { MemoryBundle } from '../bundle/memory.js';
import { type ClientRef, workloadResources } from '../client.js';
import type { LabelSelector } from '../kube-types.js';
import type { KubeHttp } from './kube-http.js';
import { call, itemsOf, listDoc, withKind } from './list-docs.js';

type Item = Record<string, unknown> & { metadata?: { name?: string }; spec?: { nodeName?: string } };

export async function readClientInto(
  http: KubeHttp,
  bundle: MemoryBundle,
  ref: ClientRef,
  targetNamespace: string | undefined,
): Promise<string[]> {
  const ns = ref.namespace;
  const pods = await clientPods(http, bundle, ref);
  const podsRel = `namespaces/${ns}/pods.json`;
  if ('missing' in pods) {
    if (!bundle.entries.has(podsRel)) bundle.set(podsRel, { missing: pods.missing });
  } else
    mergeInto(
      bundle,
      podsRel,
      pods.items.map((p) => withKind(p, 'Pod', 'v1') as Item),
    );

  const namespaces: Item[] = [];
  for (const name of new Set([ns, targetNamespace].filter((n): n is string => !!n))) {
    const got = await http.getJson<Item>(`/api/v1/namespaces/${name}`, {}, call('get', 'namespaces'));
    if (got.ok) namespaces.push(withKind(got.value, 'Namespace', 'v1') as Item);
    else if (got.status !== 404) {
      bundle.set('namespaces.json', { missing: got.reason });
      break;
    }
  }
  if (!bundle.entries.has('namespaces.json')) bundle.set('namespaces.json', { content: listDoc(namespaces) });

  if (ns !== targetNamespace) {
    const rel = `namespaces/${ns}/networkpolicies.json`;
    const got = await http.listAll(
      `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`,
      {},
      call('list', 'networkpolicies.networking.k8s.io', ns),
    );
    bundle.set(
      rel,
      got.ok
        ? {
            content: listDoc(
              got.value.items.map((i) => withKind(i, 'NetworkPolicy', 'networking.k8s.io/v1')),
            ),
          }
        : { missing: got.reason },
    );
  }
  if ('missing' in pods) return [];
  return [...new Set(pods.items.map((p) => p.spec?.nodeName).filter((n): n is string => !!n))].sort();
}

async function clientPods(
  http: KubeHttp,
  bundle: MemoryBundle,
  ref: ClientRef,
): Promise<{ items: Item[] } | { missing: string }> {
  const ns = ref.namespace;
  const pod = await http.getJson<Item>(
    `/api/v1/namespaces/${ns}/pods/${ref.name}`,
    {},
    call('get', 'pods', ns),
  );
  if (pod.ok) return { items: [pod.value] };
  if (pod.status !== 404) return { missing: pod.reason };
  for (const [resource, kind] of workloadResources) {
    const got = await http.getJson<Item & { spec?: { selector?: LabelSelector } }>(
      `/apis/apps/v1/namespaces/${ns}/${resource}/${ref.name}`,
      {},
      call('get', `${resource}.apps`, ns),
    );
    if (!got.ok) {
      if (got.status === 404) continue;
      return { missing: got.reason };
    }
    mergeInto(bundle, `namespaces/${ns}/${resource}.json`, [withKind(got.value, kind, 'apps/v1') as Item]);
    const selector = got.value.spec?.selector;
    if (!selector) return { items: [] };
    const listed = await http.listAll(
      `/api/v1/namespaces/${ns}/pods`,
      { labelSelector: selectorText(selector) },
      call('list', 'pods', ns),
    );
    return listed.ok ? { items: listed.value.items as Item[] } : { missing: listed.reason };
  }
  return { items: [] };
}

/** A LabelSelector in the `labelSelector` query syntax (k8s.io/apimachinery labels.Parse). */
export function selectorText(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** Adds items to a list the bundle may already hold (the target namespace's pods), by name. */
function mergeInto(bundle: MemoryBundle, rel: string, items: Item[]): void {
  const entry = bundle.entries.get(rel);
  if (entry && 'missing' in entry) return;
  const existing = itemsOf(entry?.content) as Item[];
  const names = new Set(existing.map((i) => i.metadata?.name));
  bundle.set(rel, { content: listDoc([...existing, ...items.filter((i) => !names.has(i.metadata?.name))]) });
}
