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

export function combineConfigMap(
  daemonSet: Collected<DaemonSet | undefined>,
  configMaps: Collected<ConfigMap[]>,
): ClusterView['kubeProxy']['configMap'] {
  if (configMaps.state === 'missing') return configMaps;
  return collected(
    pickKubeProxyConfigMap(daemonSet.state === 'collected' ? daemonSet.value : undefined, configMaps.value),
  );
}

export async function readEvents(
  dir: BundleFiles,
  namespaces: string[],
): Promise<Collected<readonly KubeEvent[]>> {
  const lists = await Promise.all(
    namespaces.map((n) => dir.readList(`namespaces/${n}/events.json`, 'Event', eventSchema)),
  );
  const found = lists.filter((l) => l.state === 'collected');
  if (found.length === 0) return missing(`not collected: events of ${namespaces.join(', ')}`);
  return collected(found.flatMap((l) => l.value));
}

export async function readKubeProxyLogs(
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
export async function readNodeCaptures(
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

export async function readEks(dir: BundleFiles): Promise<ClusterView['eks']> {
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
