/**
 * The API objects of a bundle's view, read so that its big lists are parsed one at a time
 * and let go as soon as they are selected. At 5,000 nodes kube-system's pods.json is
 * 61 MiB and nodes.json 24 MiB: held parsed together they are ~100 MiB of objects that
 * every later major garbage collection marks, for a diagnosis that keeps a few dozen of
 * them. So the small files are read first; kube-system's pods are read, parsed, selected
 * and let go next, while the heap is still small; nodes.json waits as text (one flat
 * string, which the collector does not trace) and is parsed once the node scope is known.
 */
import type { ZodType, z } from 'zod';
import { type ClientView, readClient } from '../client.js';
import { type Collected, collected, mapCollected, missing } from '../collected.js';
import {
  type ConfigMap,
  configMapSchema,
  type DaemonSet,
  type Deployment,
  daemonSetSchema,
  deploymentSchema,
  type EndpointSlice,
  endpointSliceSchema,
  type NetworkPolicy,
  type Node,
  networkPolicySchema,
  nodeSchema,
  type Pod,
  podSchema,
  type Service,
  serviceSchema,
  type VersionInfo,
  versionInfoSchema,
} from '../kube-types.js';
import { needsEveryKubeProxyPod } from '../live/blast-radius.js';
import { serviceNameLabel } from '../selectors.js';
import type { Target } from '../view.js';
import type { BundleFiles, LaterJson } from './files.js';
import { itemNames, listItems, validateItems } from './list-items.js';
import { allInOrder } from './read-ahead.js';
import { namespacePodsRead, type ScopeParts, selectSystemPods } from './selection.js';
import type { ScopeKnown } from './view-ahead.js';

const kubeSystem = 'kube-system';
const systemPodsFile = `namespaces/${kubeSystem}/pods.json`;

export interface ViewLists {
  readonly version: Collected<VersionInfo>;
  /** The nodes in scope, validated. */
  readonly nodes: Collected<Node[]>;
  readonly nodeNames: Collected<string[]>;
  readonly service: Collected<Service | undefined>;
  readonly endpointSlices: Collected<EndpointSlice[]>;
  /** The target namespace's pods the Service selects or nearly selects. */
  readonly namespacePods: Collected<Pod[]>;
  readonly client: Collected<ClientView> | undefined;
  readonly networkPolicies: Collected<NetworkPolicy[]>;
  readonly system: {
    readonly daemonSets: Collected<DaemonSet[]>;
    readonly configMaps: Collected<ConfigMap[]>;
    readonly services: Collected<Service[]>;
    readonly endpointSlices: Collected<EndpointSlice[]>;
    readonly deployments: Collected<Deployment[]>;
    /** The kube-system pods a diagnosis reads (selection.ts). */
    readonly pods: Collected<Pod[]>;
    /** kube-system pods with a logs directory in the bundle. */
    readonly podsWithLogs: ReadonlySet<string>;
  };
  /** Whether a node is in the diagnosis's node scope (checks/lib/scope.ts). */
  readonly inScope: (node: string) => boolean;
}

type Keep = (item: Record<string, unknown>) => boolean;

const named =
  (name: string | undefined): Keep =>
  (item) =>
    (item.metadata as { name?: unknown } | undefined)?.name === name;
const ofService =
  (name: string | undefined): Keep =>
  (item) =>
    (item.metadata as { labels?: Record<string, unknown> } | undefined)?.labels?.[serviceNameLabel] === name;

/**
 * @param scopeKnown called once the node scope and the kube-system pods are known, before
 * nodes.json is parsed (buildView starts the captures' and logs' reads there).
 */
export async function readViewLists(
  dir: BundleFiles,
  target: Target,
  scopeKnown?: (scope: ScopeKnown) => Promise<void>,
): Promise<ViewLists> {
  const ns = target.namespace;
  const inTarget = <S extends ZodType>(resource: string, kind: string, schema: S, keep?: Keep) =>
    ns
      ? dir.readList(`namespaces/${ns}/${resource}.json`, kind, schema, keep)
      : Promise.resolve(missing<z.infer<S>[]>('no target namespace'));
  const [version, nodeList, services, slices, policies, nsPodList, withLogs] = await allInOrder([
    dir.readObject('version.json', versionInfoSchema, 'a Kubernetes version object'),
    dir.readJsonLater('nodes.json'),
    inTarget('services', 'Service', serviceSchema, named(target.service)),
    inTarget('endpointslices', 'EndpointSlice', endpointSliceSchema, ofService(target.service)),
    inTarget('networkpolicies', 'NetworkPolicy', networkPolicySchema),
    ns ? dir.readJsonLater(`namespaces/${ns}/pods.json`) : Promise.resolve(missing('no target namespace')),
    // One directory listing instead of probing every pod: a 5,000-node bundle has logs for a few.
    dir.listDirs(`logs/${kubeSystem}`),
  ]);
  const system = await readSystemLists(dir);

  const service = target.service
    ? mapCollected(services, (list) => list.find((s) => s.metadata.name === target.service))
    : missing<undefined>('no target Service');
  const endpointSlices: Collected<EndpointSlice[]> = target.service ? slices : missing('no target Service');
  const selector = (service.state === 'collected' ? service.value?.spec.selector : undefined) ?? undefined;
  const namespacePods = mapCollected(nsPodList, (parse) =>
    selectItems(`namespaces/${ns}/pods.json`, 'Pod', podSchema, parse, namespacePodsRead(selector)),
  );
  const client = target.from ? await readClient(dir, target.from, ns) : undefined;
  const ds =
    system.daemonSets.state === 'collected'
      ? system.daemonSets.value.find((d) => d.metadata.name === 'kube-proxy')
      : undefined;
  const podsWithLogs = new Set(withLogs);
  const selection = mapCollected(await dir.readJsonLater(systemPodsFile), (parse) =>
    selectSystemPods(systemPodsFile, listItems(systemPodsFile, 'Pod', parse()), {
      target,
      hasNodeList: nodeList.state === 'collected',
      slices: endpointSlices,
      client,
      kubeProxyDaemonSet: ds,
      everyKubeProxy: needsEveryKubeProxyPod(
        ds,
        version.state === 'collected' ? version.value.gitVersion : undefined,
      ),
      podsWithLogs,
    } satisfies ScopeParts),
  );
  const scope = selection.state === 'collected' ? selection.value.scope : undefined;
  const inScope = (name: string) => !scope || scope.basis === 'cluster' || scope.nodes.includes(name);
  const systemPods = mapCollected(selection, (s) => s.pods);
  await scopeKnown?.({ inScope, systemPods, podsWithLogs });
  return {
    version,
    ...selectNodes(nodeList, inScope),
    service,
    endpointSlices,
    namespacePods,
    client,
    networkPolicies: policies,
    system: { ...system, pods: systemPods, podsWithLogs },
    inScope,
  };
}

/** kube-system's small lists (the selection needs the kube-proxy DaemonSet). */
async function readSystemLists(
  dir: BundleFiles,
): Promise<Omit<ViewLists['system'], 'pods' | 'podsWithLogs'>> {
  const list = <S extends ZodType>(resource: string, kind: string, schema: S, keep?: Keep) =>
    dir.readList(`namespaces/${kubeSystem}/${resource}.json`, kind, schema, keep);
  const [daemonSets, configMaps, services, endpointSlices, deployments] = await allInOrder([
    list('daemonsets', 'DaemonSet', daemonSetSchema),
    list('configmaps', 'ConfigMap', configMapSchema),
    list('services', 'Service', serviceSchema, named('kube-dns')),
    list('endpointslices', 'EndpointSlice', endpointSliceSchema, ofService('kube-dns')),
    list('deployments', 'Deployment', deploymentSchema),
  ]);
  return { daemonSets, configMaps, services, endpointSlices, deployments };
}

/** The items of a list that `keep` selects, validated; the parsed list is let go on return. */
function selectItems<S extends ZodType>(rel: string, kind: string, schema: S, parse: LaterJson, keep: Keep) {
  return validateItems(rel, kind, schema, listItems(rel, kind, parse()), keep);
}

/** Every node's name, and the nodes in scope validated. */
function selectNodes(
  list: Collected<LaterJson>,
  inScope: (node: string) => boolean,
): Pick<ViewLists, 'nodes' | 'nodeNames'> {
  if (list.state === 'missing') return { nodes: list, nodeNames: list };
  const items = listItems('nodes.json', 'Node', list.value());
  return {
    nodeNames: collected(itemNames(items)),
    nodes: collected(
      validateItems('nodes.json', 'Node', nodeSchema, items, (item) =>
        inScope((item.metadata as { name: string }).name),
      ),
    ),
  };
}
