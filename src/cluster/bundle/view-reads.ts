/**
 * The parts of a bundle's view read after its lists: events, kube-proxy's logs, the node
 * captures (bounded by the node scope), the EKS files.
 */
import { type Collected, collected, missing } from '../collected.js';
import {
  type ConfigMap,
  type DaemonSet,
  eksAddonSchema,
  eksClusterSchema,
  eventSchema,
  type KubeEvent,
  type Pod,
} from '../kube-types.js';
import { pickKubeProxyConfigMap } from '../selectors.js';
import type { ClusterView, NodeCaptures, PodLogs } from '../view.js';
import { readEksAudit, readEksNetwork } from './eks-extras.js';
import type { BundleFiles } from './files.js';
import { allInOrder } from './read-ahead.js';

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
export const eksAddonFile = (name: string) => `eks/addons/${name}.json`;
export const eksClusterFile = 'eks/cluster.json';

export function combineConfigMap(
  daemonSet: Collected<DaemonSet | undefined>,
  configMaps: Collected<ConfigMap[]>,
): ClusterView['kubeProxy']['configMap'] {
  if (configMaps.state === 'missing') return configMaps;
  return collected(
    pickKubeProxyConfigMap(daemonSet.state === 'collected' ? daemonSet.value : undefined, configMaps.value),
  );
}

/** The namespaces whose events a view reads: the target's, kube-system, default. */
export function eventNamespaces(targetNamespace: string | undefined): string[] {
  return [...new Set([targetNamespace, kubeSystem, 'default'].filter((n): n is string => !!n))];
}

export const eventsFile = (namespace: string) => `namespaces/${namespace}/events.json`;

export async function readEvents(
  dir: BundleFiles,
  namespaces: string[],
): Promise<Collected<readonly KubeEvent[]>> {
  const lists = await allInOrder(namespaces.map((n) => dir.readList(eventsFile(n), 'Event', eventSchema)));
  const found = lists.filter((l) => l.state === 'collected');
  if (found.length === 0) return missing(`not collected: events of ${namespaces.join(', ')}`);
  return collected(found.flatMap((l) => l.value));
}

export async function readKubeProxyLogs(
  dir: BundleFiles,
  pods: Collected<Pod[]>,
  withLogs: ReadonlySet<string>,
): Promise<ReadonlyMap<string, PodLogs>> {
  // In the pods' order, whichever log is read first.
  const read = await allInOrder(
    kubeProxyLogFiles(pods, withLogs).map(async ({ pod, container, current, previous }) => {
      const [currentTail, previousTail] = await allInOrder([
        dir.readLogTail(current),
        dir.readLogTail(previous),
      ]);
      return [pod, { pod, container, current: currentTail, previous: previousTail }] as const;
    }),
  );
  return new Map(read);
}

/** The log files of the kube-proxy pods that have logs in the bundle. */
export function kubeProxyLogFiles(pods: Collected<Pod[]>, withLogs: ReadonlySet<string>) {
  if (pods.state === 'missing') return [];
  return pods.value.flatMap((pod) => {
    const name = pod.metadata.name;
    const container =
      pod.spec.containers.find((c) => c.name === 'kube-proxy')?.name ?? pod.spec.containers[0]?.name;
    if (!withLogs.has(name) || !container) return [];
    const base = `logs/${kubeSystem}/${name}/${container}`;
    return [{ pod: name, container, current: `${base}.log`, previous: `${base}.previous.log` }];
  });
}

/**
 * Captures of the nodes in scope; of other nodes only the small health files the blast
 * radius and the IPVS module list read (healthz, metrics, proxyMode, lsmod, sysctl,
 * dmesg, ip link), not their rule dumps (an iptables-save of 10,000 Services is 19 MiB).
 */
export async function readNodeCaptures(
  dir: BundleFiles,
  inScope: (node: string) => boolean,
): Promise<ReadonlyMap<string, NodeCaptures>> {
  const captures = new Map<string, NodeCaptures>();
  for (const node of await dir.listDirs('nodes')) {
    const full = inScope(node);
    const entries = await allInOrder(
      Object.entries(nodeCaptureFiles).map(async ([field, file]) => {
        if (!readsCapture(field, full))
          return [field, missing(`not read: ${node} is not in the diagnosis's node scope`)] as const;
        return [field, await dir.readText(`nodes/${node}/${file}`)] as const;
      }),
    );
    captures.set(node, { node, ...Object.fromEntries(entries) } as NodeCaptures);
  }
  return captures;
}

/** The capture files readNodeCaptures reads of a node: all when in scope, else the small ones. */
export function nodeCaptureReads(node: string, inScope: boolean): string[] {
  return Object.entries(nodeCaptureFiles)
    .filter(([field]) => readsCapture(field, inScope))
    .map(([, file]) => `nodes/${node}/${file}`);
}

/** Whether a node's capture is read: every one of a node in scope, else only the small ones. */
const readsCapture = (field: string, inScope: boolean): boolean => inScope || !ruleDumps.has(field);

/** Capture fields whose size grows with the cluster's Services and connections. */
const ruleDumps: ReadonlySet<string> = new Set([
  'iptablesSave',
  'ip6tablesSave',
  'ipvsadm',
  'nft',
  'conntrack',
]);

export async function readEks(dir: BundleFiles): Promise<ClusterView['eks']> {
  const addons = new Map<string, Collected<ReturnType<typeof eksAddonSchema.parse>>>();
  for (const name of eksAddonNames) {
    addons.set(
      name,
      await dir.readObject(eksAddonFile(name), eksAddonSchema, 'an EKS DescribeAddon response'),
    );
  }
  return {
    cluster: await dir.readObject(eksClusterFile, eksClusterSchema, 'an EKS DescribeCluster response'),
    addons,
    network: await readEksNetwork(dir),
    audit: await readEksAudit(dir),
  };
}
