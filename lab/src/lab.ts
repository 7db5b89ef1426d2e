// A real Kubernetes control plane on loopback for kproxy's cluster suite: etcd, the
// kube-apiserver (TLS, Node+RBAC authorizers, Pod Security and NodeRestriction admission,
// service-account tokens signed by the apiserver), the controller-manager (the token,
// service-account, namespace, GC, EndpointSlice, Deployment/ReplicaSet/DaemonSet,
// disruption and node-lifecycle controllers), the scheduler, and N nodes. Each node is a
// network namespace with a veth to the host (node-netns.ts) where its own kwok plays the
// kubelet (node-kwok.ts: node status, pods Running and Ready, the kubelet API on the
// node's address) and the real kube-proxy of kubeadm's DaemonSet runs as that node's
// kube-proxy pod (kube-proxy-pods.ts); CoreDNS is kubeadm's Deployment and kube-dns
// Service (lab/manifests), its pods played by kwok. The control plane listens on
// 127.0.0.1 only; nodes listen on their veth addresses, which reach nothing but the host.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { labApi } from './api.js';
import { apiserverArgs, clusterCidr, controllerManagerArgs, etcdArgs, schedulerArgs } from './args.js';
import { startApiForwarders } from './forwarders.js';
import { type KubeProxyPods, startKubeProxyPods } from './kube-proxy-pods.js';
import { kubectl } from './kubectl.js';
import { kubeProxyLogFiles, startNodeKwok, writeLabStages } from './node-kwok.js';
import { createNodeHost, type NodeHost } from './node-netns.js';
import { type NodeProxy, type NodeProxyOptions, startNodeProxy } from './node-proxy.js';
import { createNodes, waitNodes } from './nodes.js';
import { kubeconfigYaml, type LabPki, makePki } from './pki.js';
import { freePorts } from './ports.js';
import { type Component, startComponent, stopComponent, waitFor } from './processes.js';
import { waitSystemPods } from './system-pods.js';

const manifests = path.resolve(import.meta.dirname, '../manifests');

/** What tests need of a node to break it: where its processes and files are. */
export interface LabNode {
  name: string;
  /** InternalIP: the node's address in its network namespace. */
  ip: string;
  netns: string;
  /** The node's /run (its xtables.lock is `${runDir}/xtables.lock`). */
  runDir: string;
  /** The kube-proxy container's current and previous CRI logs. */
  kubeProxyLogs: { current: string; previous: string };
}

export interface LabOptions {
  /** Directory holding the binaries lab/build.sh produced. */
  binDir: string;
  nodes: number;
  /** Keep the lab's directory (logs, certificates) after stop. */
  keepDir?: boolean;
}

export interface Lab {
  dir: string;
  server: string;
  /** system:masters client certificate. */
  adminKubeconfig: string;
  pki: LabPki;
  nodeNames: string[];
  nodes: LabNode[];
  /** What startNodeProxy needs besides the node (plain data: tests get it from the setup). */
  nodeProxyOptions: Omit<NodeProxyOptions, 'nodeName'>;
  /** Starts a real kube-proxy for a kwok node in its own network namespace (root only). */
  startKubeProxy(nodeName: string): Promise<NodeProxy>;
  stop(): Promise<void>;
}

async function writeKubeconfigs(dir: string, server: string, pki: LabPki): Promise<string> {
  const admin = path.join(dir, 'admin.kubeconfig');
  await writeFile(admin, kubeconfigYaml(server, pki.caCert, pki.admin, 'kproxy-lab-admin'));
  await writeFile(
    path.join(dir, 'controller-manager.kubeconfig'),
    kubeconfigYaml(server, pki.caCert, pki.controllerManager, 'system:kube-controller-manager'),
  );
  await writeFile(
    path.join(dir, 'scheduler.kubeconfig'),
    kubeconfigYaml(server, pki.caCert, pki.scheduler, 'system:kube-scheduler'),
  );
  return admin;
}

/** Starts one component, records it for stop(), and waits until `ready` holds. */
type Launch = (
  name: string,
  args: string[],
  what: string,
  ready: () => Promise<boolean>,
) => Promise<Component>;

async function startControlPlane(dir: string, pki: LabPki, launch: Launch) {
  const [etcdClient = 0, etcdPeer = 0, apiPort = 0, kcmPort = 0, schedPort = 0] = await freePorts(5);
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  await launch(
    'etcd',
    etcdArgs(dir, etcdUrl, etcdPeer),
    'etcd /health',
    async () => (await fetch(`${etcdUrl}/health`)).ok,
  );
  const server = `https://127.0.0.1:${apiPort}`;
  const admin = await writeKubeconfigs(dir, server, pki);
  const readyz = async () => (await kubectl(admin, ['get', '--raw', '/readyz'])) === 'ok';
  await launch('kube-apiserver', apiserverArgs(dir, pki, etcdUrl, apiPort), 'kube-apiserver /readyz', readyz);
  // The service-account controller creating `default` shows the controller-manager works.
  const defaultSa = async () => {
    await kubectl(admin, ['get', 'serviceaccount', 'default', '-n', 'default']);
    return true;
  };
  await launch(
    'kube-controller-manager',
    controllerManagerArgs(dir, pki, kcmPort),
    'the default ServiceAccount',
    defaultSa,
  );
  await launch('kube-scheduler', schedulerArgs(dir, schedPort), 'kube-scheduler', async () => true);
  return { server, admin, apiPort };
}

/** Namespaces, forwarders, nodes, one kwok each, then kube-proxy and CoreDNS; waits for their pods. */
async function startNodes(
  dir: string,
  options: LabOptions,
  pki: LabPki,
  plane: { server: string; admin: string; apiPort: number },
  started: Component[],
  hosts: NodeHost[],
): Promise<KubeProxyPods> {
  const names = Array.from({ length: options.nodes }, (_, i) => `kwok-node-${i}`);
  for (const name of names) {
    const host = await createNodeHost(dir, name);
    hosts.push(host);
    started.push(...(await startApiForwarders(dir, host.netns, name, plane.apiPort)));
  }
  await createNodes(
    plane.admin,
    hosts.map((h, i) => ({ name: h.name, ip: h.ip, podCidr: `10.244.${i}.0/24` })),
  );
  const stagesFile = await writeLabStages(dir, options.binDir);
  const kwoks: Component[] = [];
  for (const [i, host] of hosts.entries()) {
    const kwok = await startNodeKwok(host, {
      labDir: dir,
      binDir: options.binDir,
      pki,
      stagesFile,
      podCidr: `10.244.${i}.0/24`,
    });
    kwoks.push(kwok);
    started.push(kwok);
  }
  await waitNodes(plane.admin, names, kwoks);
  const api = await labApi(plane.server, pki.caCert, pki.kwok);
  const kubeProxyPods = startKubeProxyPods(api, hosts, options.binDir);
  for (const m of ['kube-proxy.yaml', 'coredns.yaml'])
    await kubectl(plane.admin, ['apply', '-f', path.join(manifests, m)]);
  await waitSystemPods(api, names);
  return kubeProxyPods;
}

export async function startLab(options: LabOptions): Promise<Lab> {
  if (process.getuid?.() !== 0)
    throw new Error(
      'lab: needs root: each node is a network namespace with a veth (ip netns, ip link) and mounts of its own',
    );
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-lab-'));
  const started: Component[] = [];
  const proxies: NodeProxy[] = [];
  const hosts: NodeHost[] = [];
  let kubeProxyPods: KubeProxyPods | undefined;
  const stop = async () => {
    for (const p of proxies.splice(0)) await p.stop();
    await kubeProxyPods?.stop();
    for (const c of [...started].reverse()) await stopComponent(c);
    for (const h of hosts.splice(0)) await h.remove();
    if (!options.keepDir) await rm(dir, { recursive: true, force: true });
  };
  const launch: Launch = async (name, args, what, ready) => {
    const component = startComponent(dir, name, path.join(options.binDir, name), args);
    started.push(component);
    await waitFor(what, ready, component);
    return component;
  };
  try {
    const pki = await makePki(dir);
    const plane = await startControlPlane(dir, pki, launch);
    kubeProxyPods = await startNodes(dir, options, pki, plane, started, hosts);
    const nodeProxyOptions = { dir, binDir: options.binDir, apiPort: plane.apiPort, pki, clusterCidr };
    const startKubeProxy = async (nodeName: string) => {
      const proxy = await startNodeProxy({ ...nodeProxyOptions, nodeName });
      proxies.push(proxy);
      return proxy;
    };
    const nodes = hosts.map((h) => ({
      name: h.name,
      ip: h.ip,
      netns: h.netns,
      runDir: h.runDir,
      kubeProxyLogs: kubeProxyLogFiles(h),
    }));
    return {
      dir,
      server: plane.server,
      adminKubeconfig: plane.admin,
      pki,
      nodeNames: nodes.map((n) => n.name),
      nodes,
      nodeProxyOptions,
      startKubeProxy,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
