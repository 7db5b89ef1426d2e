/**
 * Bundles around the real captures of scripts/real-captures (upstream kube-proxy test
 * dumps replayed through the real iptables-restore / nft): the `healthy` example with its
 * target moved to upstream's `ns1/svc1` on one node, whose captures are replaced.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { copyExample } from './bundles.js';

export const realCapturesDir = path.resolve(import.meta.dirname, '..', '..', 'scripts', 'real-captures');
export const targetNode = 'ip-10-0-2-45.ec2.internal';

export async function realCapture(kase: string, file: string): Promise<string> {
  return await readFile(path.join(realCapturesDir, 'captures', kase, file), 'utf8');
}

export interface SliceInput {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  addresses: { ip: string; pod?: string; ready?: boolean }[];
}

export interface Ns1Bundle {
  clusterIPs: string[];
  ipFamilies: string[];
  slices: SliceInput[];
  /** Capture files of the target node; `undefined` leaves the file out. */
  captures: Record<string, string | undefined>;
  proxyMode: 'iptables' | 'nftables';
  port?: { name: string; port: number };
}

const list = (kind: string, items: unknown[]) =>
  `${JSON.stringify({ apiVersion: 'v1', kind: `${kind}List`, items }, null, 2)}\n`;

export async function ns1Bundle(spec: Ns1Bundle): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const copy = await copyExample('healthy');
  const dir = copy.dir;
  const port = spec.port ?? { name: 'p80', port: 80 };
  const manifest = JSON.parse(await readFile(path.join(dir, 'bundle.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  manifest.target = { namespace: 'ns1', service: 'svc1', node: targetNode };
  await writeFile(path.join(dir, 'bundle.json'), JSON.stringify(manifest));
  const ns = path.join(dir, 'namespaces', 'ns1');
  await mkdir(ns, { recursive: true });
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'svc1', namespace: 'ns1' },
    spec: {
      clusterIP: spec.clusterIPs[0],
      clusterIPs: spec.clusterIPs,
      ipFamilies: spec.ipFamilies,
      ipFamilyPolicy: spec.ipFamilies.length > 1 ? 'RequireDualStack' : 'SingleStack',
      ports: [{ name: port.name, port: port.port, protocol: 'TCP', targetPort: port.port }],
      selector: { app: 'svc1' },
      type: 'ClusterIP',
    },
  };
  const pods = [...new Set(spec.slices.flatMap((s) => s.addresses.map((a) => a.pod).filter(Boolean)))];
  const slices = spec.slices.map((s, i) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `svc1-${s.addressType.toLowerCase()}-${i}`,
      namespace: 'ns1',
      labels: { 'kubernetes.io/service-name': 'svc1' },
    },
    addressType: s.addressType,
    endpoints: s.addresses.map((a) => ({
      addresses: [a.ip],
      conditions: { ready: a.ready ?? true, serving: a.ready ?? true, terminating: false },
      nodeName: targetNode,
      ...(a.pod ? { targetRef: { kind: 'Pod', name: a.pod, namespace: 'ns1' } } : {}),
    })),
    ports: [{ name: port.name, port: port.port, protocol: 'TCP' }],
  }));
  const podObjects = pods.map((name) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns1', labels: { app: 'svc1' } },
    spec: {
      nodeName: targetNode,
      containers: [
        {
          name: 'app',
          image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
          ports: [{ containerPort: port.port }],
        },
      ],
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  }));
  await writeFile(path.join(ns, 'services.json'), list('Service', [service]));
  await writeFile(path.join(ns, 'endpointslices.json'), list('EndpointSlice', slices));
  await writeFile(path.join(ns, 'pods.json'), list('Pod', podObjects));
  await writeFile(path.join(ns, 'networkpolicies.json'), list('NetworkPolicy', []));
  await writeFile(path.join(ns, 'events.json'), list('Event', []));
  const node = path.join(dir, 'nodes', targetNode);
  for (const file of ['iptables-save.txt', 'ip6tables-save.txt', 'nft.txt', 'ipvsadm.txt'])
    await rm(path.join(node, file), { force: true });
  await writeFile(path.join(node, 'proxy-mode.txt'), spec.proxyMode);
  for (const [file, text] of Object.entries(spec.captures))
    if (text !== undefined) await writeFile(path.join(node, file), text);
  return copy;
}
