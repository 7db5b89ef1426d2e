/**
 * BundleSource: a ClusterView from an incident bundle (format v1, a directory or a
 * `.tar.gz`). It reads only the files a diagnosis of the target needs: the target's
 * namespace, kube-system, default's events, the nodes, and the node captures.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ZodType, z } from 'zod';
import { BundleError, KproxyError } from '../../errors.js';
import { readClient } from '../client.js';
import { type Collected, collected, mapCollected, missing } from '../collected.js';
import {
  type ConfigMap,
  configMapSchema,
  type DaemonSet,
  daemonSetSchema,
  deploymentSchema,
  type EndpointSlice,
  eksAddonSchema,
  eksClusterSchema,
  endpointSliceSchema,
  eventSchema,
  type KubeEvent,
  networkPolicySchema,
  nodeSchema,
  type Pod,
  podSchema,
  serviceSchema,
  versionInfoSchema,
} from '../kube-types.js';
import { needsEveryKubeProxyPod } from '../live/blast-radius.js';
import {
  isCniAgentName,
  isCniAgentPod,
  isCoreDnsPod,
  isKubeProxyPod,
  pickKubeProxyConfigMap,
  serviceNameLabel,
} from '../selectors.js';
import type { ClusterSource, LoadRequest } from '../source.js';
import type { ClusterView, NodeCaptures, PodLogs, Target } from '../view.js';
import { readEksAudit, readEksNetwork } from './eks-extras.js';
import { BundleDir, type BundleFiles, itemNames, validateItems } from './files.js';
import { type BundleManifest, bundleManifestSchema } from './manifest.js';
import { readNorthSouth, wantsNorthSouth, withRouteBackend } from './north-south.js';
import { readProbes } from './probe-files.js';
import { nearlySelected, selectSystemPods } from './selection.js';
import type { UnpackedBundle } from './tarball.js';

const kubeSystem = 'kube-system';

/** The node capture files of the bundle format, by ClusterView field. */
export const nodeCaptureFiles = {
  healthz: 'healthz.json',
  metrics: 'metrics.txt',
  proxyMode: 'proxy-mode.txt',
  iptablesSave: 'iptables-save.txt',
  ip6tablesSave: 'ip6tables-save.txt',
  ipvsadm: 'ipvsadm.txt',
  nft: 'nft.txt',
  conntrack: 'conntrack.txt',
  sysctl: 'sysctl.txt',
  dmesg: 'dmesg.txt',
  lsmod: 'lsmod.txt',
  ipLink: 'ip-link.txt',
} as const satisfies Record<Exclude<keyof NodeCaptures, 'node'>, string>;

export const eksAddonNames = ['kube-proxy', 'vpc-cni', 'coredns'] as const;

export class BundleSource implements ClusterSource {
  readonly description: string;
  private unpacked: UnpackedBundle | undefined;

  constructor(private readonly bundlePath: string) {
    this.description = `bundle ${bundlePath}`;
  }

  async load(request: LoadRequest = {}): Promise<ClusterView> {
    const root = await this.rootDir();
    const manifest = await readManifest(new BundleDir(root));
    // Read with the manifest's reasons for what collect could not read (see BundleDir).
    const dir = new BundleDir(root, manifest.notCollected);
    const target = request.clusterWide
      ? { node: request.target?.node }
      : resolveTarget(manifest, request.target);
    return buildView(dir, manifest, target, this.description);
  }

  async close(): Promise<void> {
    const unpacked = this.unpacked;
    this.unpacked = undefined;
    await unpacked?.cleanup();
  }

  private async rootDir(): Promise<string> {
    const full = path.resolve(this.bundlePath);
    let isDir: boolean;
    try {
      isDir = (await stat(full)).isDirectory();
    } catch {
      throw new KproxyError('bundle_unreadable', `${this.bundlePath}: no such bundle directory or file`);
    }
    if (isDir) return full;
    if (!/\.(tar\.gz|tgz)$/.test(full)) {
      throw new KproxyError(
        'bundle_unreadable',
        `${this.bundlePath}: a bundle is a directory or a .tar.gz file`,
      );
    }
    // tar loads only for an archive.
    this.unpacked ??= await (await import('./tarball.js')).unpackBundleTarball(full);
    return bundleRootInside(this.unpacked.dir);
  }
}

/** `tar czf b.tgz -C dir .` and `tar czf b.tgz dir/` are both accepted. */
async function bundleRootInside(dir: string): Promise<string> {
  const top = new BundleDir(dir);
  if ((await top.fileSize('bundle.json')) !== undefined) return dir;
  const dirs = await top.listDirs('.');
  if (dirs.length === 1 && dirs[0] !== undefined) {
    const inner = path.join(dir, dirs[0]);
    if ((await new BundleDir(inner).fileSize('bundle.json')) !== undefined) return inner;
  }
  return dir;
}

export async function readManifest(dir: BundleFiles): Promise<BundleManifest> {
  const manifest = await dir.readObject('bundle.json', bundleManifestSchema, 'a kproxy/v1 Bundle manifest');
  if (manifest.state === 'missing')
    throw new BundleError('bundle.json', 'missing: every bundle starts with its manifest');
  return manifest.value;
}

export function resolveTarget(manifest: BundleManifest, override: Target | undefined): Target {
  const from = manifest.target.from?.split('/') as [string, string] | undefined;
  const own: Target = {
    namespace: manifest.target.namespace ?? undefined,
    service: manifest.target.service ?? undefined,
    node: manifest.target.node ?? undefined,
    from: from ? { namespace: from[0], name: from[1] } : undefined,
    route: manifest.target.route ?? undefined,
  };
  if (!override) return own;
  // A route given is a new target: its backend, not the bundle's Service.
  const serviceGiven = override.service !== undefined || override.route !== undefined;
  return {
    namespace: serviceGiven ? override.namespace : own.namespace,
    service: serviceGiven ? override.service : own.service,
    node: override.node ?? own.node,
    from: override.from ?? (serviceGiven ? undefined : own.from),
    route: override.route ?? (serviceGiven ? undefined : own.route),
  };
}

/**
 * The view of a bundle's files; the live source builds its view with this too. Lists are
 * selected before they are validated (selection.ts): only what the checks read is.
 */
export async function buildView(
  dir: BundleFiles,
  manifest: BundleManifest,
  routeTarget: Target,
  origin: string,
): Promise<ClusterView> {
  const target = await withRouteBackend(dir, routeTarget);
  const ns = target.namespace;
  const list = <S extends ZodType>(
    namespace: string,
    resource: string,
    kind: string,
    schema: S,
    keep?: (item: Record<string, unknown>) => boolean,
  ) => dir.readList(`namespaces/${namespace}/${resource}.json`, kind, schema, keep);
  const inTarget = <S extends ZodType>(
    resource: string,
    kind: string,
    schema: S,
    keep?: (item: Record<string, unknown>) => boolean,
  ) =>
    ns
      ? list(ns, resource, kind, schema, keep)
      : Promise.resolve(missing<z.infer<S>[]>('no target namespace'));
  const named = (name: string | undefined) => (item: Record<string, unknown>) =>
    (item.metadata as { name?: unknown } | undefined)?.name === name;
  const ofService = (name: string | undefined) => (item: Record<string, unknown>) =>
    (item.metadata as { labels?: Record<string, unknown> } | undefined)?.labels?.[serviceNameLabel] === name;

  const [version, nodeItems, services, slices, nsPodItems, policies] = await Promise.all([
    dir.readObject('version.json', versionInfoSchema, 'a Kubernetes version object'),
    dir.readItems('nodes.json', 'Node'),
    inTarget('services', 'Service', serviceSchema, named(target.service)),
    inTarget('endpointslices', 'EndpointSlice', endpointSliceSchema, ofService(target.service)),
    ns ? dir.readItems(`namespaces/${ns}/pods.json`, 'Pod') : Promise.resolve(missing('no target namespace')),
    inTarget('networkpolicies', 'NetworkPolicy', networkPolicySchema),
  ]);
  const [sysPodItems, sysDaemonSets, sysConfigMaps, sysServices, sysSlices, sysDeployments, withLogs] =
    await Promise.all([
      dir.readItems(`namespaces/${kubeSystem}/pods.json`, 'Pod'),
      list(kubeSystem, 'daemonsets', 'DaemonSet', daemonSetSchema),
      list(kubeSystem, 'configmaps', 'ConfigMap', configMapSchema),
      list(kubeSystem, 'services', 'Service', serviceSchema, named('kube-dns')),
      list(kubeSystem, 'endpointslices', 'EndpointSlice', endpointSliceSchema, ofService('kube-dns')),
      list(kubeSystem, 'deployments', 'Deployment', deploymentSchema),
      // One directory listing instead of probing every pod: a 5,000-node bundle has logs for a few.
      dir.listDirs(`logs/${kubeSystem}`),
    ]);

  const service = target.service
    ? mapCollected(services, (list) => list.find((s) => s.metadata.name === target.service))
    : missing<undefined>('no target Service');
  const endpointSlices: Collected<EndpointSlice[]> = target.service ? slices : missing('no target Service');
  const selector = (service.state === 'collected' ? service.value?.spec.selector : undefined) ?? undefined;
  const nodeNames = mapCollected(nodeItems, (items) => itemNames(items));
  const client = target.from ? await readClient(dir, target.from, ns) : undefined;
  const kubeProxyDaemonSet = mapCollected(sysDaemonSets, (list) =>
    list.find((ds) => ds.metadata.name === 'kube-proxy'),
  );
  const ds = kubeProxyDaemonSet.state === 'collected' ? kubeProxyDaemonSet.value : undefined;
  const selection = mapCollected(sysPodItems, (items) =>
    selectSystemPods(`namespaces/${kubeSystem}/pods.json`, items, {
      target,
      nodeNames,
      slices: endpointSlices,
      client,
      kubeProxyDaemonSet: ds,
      everyKubeProxy: needsEveryKubeProxyPod(
        ds,
        version.state === 'collected' ? version.value.gitVersion : undefined,
      ),
      podsWithLogs: new Set(withLogs),
    }),
  );
  const sysPods = mapCollected(selection, (s) => s.pods);
  const scope = selection.state === 'collected' ? selection.value.scope : undefined;
  const inScope = (name: string) => !scope || scope.basis === 'cluster' || scope.nodes.includes(name);
  const kubeProxyPods = mapCollected(sysPods, (pods) => pods.filter(isKubeProxyPod));

  return {
    cluster: manifest.cluster,
    observedAt: new Date(manifest.collectedAt),
    origin,
    target,
    version,
    nodes: mapCollected(nodeItems, (items) =>
      validateItems('nodes.json', 'Node', nodeSchema, items, (item) =>
        inScope(String((item.metadata as { name?: unknown }).name)),
      ),
    ),
    nodeNames,
    service,
    endpointSlices,
    namespacePods: mapCollected(nsPodItems, (items) =>
      validateItems(`namespaces/${ns}/pods.json`, 'Pod', podSchema, items, (item) =>
        nearlySelected(item, selector),
      ),
    ),
    client,
    networkPolicies: policies,
    events: await readEvents(dir, [...new Set([ns, kubeSystem, 'default'].filter((n): n is string => !!n))]),
    kubeProxy: {
      daemonSet: kubeProxyDaemonSet,
      pods: kubeProxyPods,
      configMap: combineConfigMap(kubeProxyDaemonSet, sysConfigMaps),
      logs: await readKubeProxyLogs(dir, kubeProxyPods, new Set(withLogs)),
    },
    dns: {
      service: mapCollected(sysServices, (list) => list.find((s) => s.metadata.name === 'kube-dns')),
      endpointSlices: sysSlices,
      pods: mapCollected(sysPods, (pods) => pods.filter(isCoreDnsPod)),
      deployment: mapCollected(sysDeployments, (list) => list.find((d) => d.metadata.name === 'coredns')),
    },
    systemDaemonSets: mapCollected(sysDaemonSets, (list) =>
      list.filter((ds) => isCniAgentName(ds.metadata.name)),
    ),
    cniPods: mapCollected(sysPods, (pods) => pods.filter(isCniAgentPod)),
    nodeCaptures: await readNodeCaptures(dir, inScope),
    eks: await readEks(dir),
    probes: await readProbes(dir),
    northSouth: wantsNorthSouth(target, service.state === 'collected' ? service.value : undefined)
      ? await readNorthSouth(dir, target)
      : undefined,
  };
}

function combineConfigMap(
  daemonSet: Collected<DaemonSet | undefined>,
  configMaps: Collected<ConfigMap[]>,
): ClusterView['kubeProxy']['configMap'] {
  if (configMaps.state === 'missing') return configMaps;
  return collected(
    pickKubeProxyConfigMap(daemonSet.state === 'collected' ? daemonSet.value : undefined, configMaps.value),
  );
}

async function readEvents(dir: BundleFiles, namespaces: string[]): Promise<Collected<readonly KubeEvent[]>> {
  const lists = await Promise.all(
    namespaces.map((n) => dir.readList(`namespaces/${n}/events.json`, 'Event', eventSchema)),
  );
  const found = lists.filter((l) => l.state === 'collected');
  if (found.length === 0) return missing(`not collected: events of ${namespaces.join(', ')}`);
  return collected(found.flatMap((l) => l.value));
}

async function readKubeProxyLogs(
  dir: BundleFiles,
  pods: Collected<Pod[]>,
  withLogs: ReadonlySet<string>,
): Promise<ReadonlyMap<string, PodLogs>> {
  const logs = new Map<string, PodLogs>();
  if (pods.state === 'missing') return logs;
  await Promise.all(
    pods.value
      .filter((pod) => withLogs.has(pod.metadata.name))
      .map(async (pod) => {
        const name = pod.metadata.name;
        const container =
          pod.spec.containers.find((c) => c.name === 'kube-proxy')?.name ?? pod.spec.containers[0]?.name;
        if (!container) return;
        const base = `logs/${kubeSystem}/${name}/${container}`;
        const [current, previous] = await Promise.all([
          dir.readLogTail(`${base}.log`),
          dir.readLogTail(`${base}.previous.log`),
        ]);
        logs.set(name, { pod: name, container, current, previous });
      }),
  );
  return logs;
}

/**
 * Captures of the nodes in scope; of other nodes only the small health files the blast
 * radius and the IPVS module list read (healthz, metrics, proxyMode, lsmod, sysctl,
 * dmesg, ip link), not their rule dumps (an iptables-save of 10,000 Services is 19 MiB).
 */
async function readNodeCaptures(
  dir: BundleFiles,
  inScope: (node: string) => boolean,
): Promise<ReadonlyMap<string, NodeCaptures>> {
  const captures = new Map<string, NodeCaptures>();
  for (const node of await dir.listDirs('nodes')) {
    const full = inScope(node);
    const entries = await Promise.all(
      Object.entries(nodeCaptureFiles).map(async ([field, file]) => {
        if (!full && ruleDumps.has(field))
          return [field, missing(`not read: ${node} is not in the diagnosis's node scope`)] as const;
        return [field, await dir.readText(`nodes/${node}/${file}`)] as const;
      }),
    );
    captures.set(node, { node, ...Object.fromEntries(entries) } as NodeCaptures);
  }
  return captures;
}

/** Capture fields whose size grows with the cluster's Services and connections. */
const ruleDumps: ReadonlySet<string> = new Set([
  'iptablesSave',
  'ip6tablesSave',
  'ipvsadm',
  'nft',
  'conntrack',
]);

async function readEks(dir: BundleFiles): Promise<ClusterView['eks']> {
  const addons = new Map<string, Collected<ReturnType<typeof eksAddonSchema.parse>>>();
  for (const name of eksAddonNames) {
    addons.set(
      name,
      await dir.readObject(`eks/addons/${name}.json`, eksAddonSchema, 'an EKS DescribeAddon response'),
    );
  }
  return {
    cluster: await dir.readObject('eks/cluster.json', eksClusterSchema, 'an EKS DescribeCluster response'),
    addons,
    network: await readEksNetwork(dir),
    audit: await readEksAudit(dir),
  };
}
