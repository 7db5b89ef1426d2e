// A real Kubernetes control plane on loopback for kproxy's cluster suite: etcd, the
// kube-apiserver (TLS, Node+RBAC authorizers, Pod Security and NodeRestriction admission,
// service-account tokens signed by the apiserver), the controller-manager (the token,
// service-account, namespace, GC, EndpointSlice, Deployment/ReplicaSet/DaemonSet,
// disruption and node-lifecycle controllers), the scheduler, kwok playing the kubelets of
// N fake nodes (pods on them become Running and Ready), and on request a real kube-proxy
// per node in its own network namespace. Every listener is on 127.0.0.1.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  apiserverArgs,
  clusterCidr,
  controllerManagerArgs,
  etcdArgs,
  kwokArgs,
  schedulerArgs,
} from './args.js';
import { kubectl } from './kubectl.js';
import { type NodeProxy, type NodeProxyOptions, startNodeProxy } from './node-proxy.js';
import { createNodes } from './nodes.js';
import { kubeconfigYaml, type LabPki, makePki } from './pki.js';
import { freePorts } from './ports.js';
import { type Component, startComponent, stopComponent, waitFor } from './processes.js';

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
  await writeFile(path.join(dir, 'kwok.kubeconfig'), kubeconfigYaml(server, pki.caCert, pki.kwok, 'kwok'));
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

export async function startLab(options: LabOptions): Promise<Lab> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-lab-'));
  const started: Component[] = [];
  const proxies: NodeProxy[] = [];
  const stop = async () => {
    for (const p of proxies.splice(0)) await p.stop();
    for (const c of [...started].reverse()) await stopComponent(c);
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
    const { server, admin, apiPort } = await startControlPlane(dir, pki, launch);
    const kwok = await launch('kwok', kwokArgs(dir, options.binDir), 'kwok', async () => true);
    const nodeNames = Array.from({ length: options.nodes }, (_, i) => `kwok-node-${i}`);
    await createNodes(admin, nodeNames, kwok);
    const nodeProxyOptions = { dir, binDir: options.binDir, apiPort, pki, clusterCidr };
    const startKubeProxy = async (nodeName: string) => {
      const proxy = await startNodeProxy({ ...nodeProxyOptions, nodeName });
      proxies.push(proxy);
      return proxy;
    };
    return { dir, server, adminKubeconfig: admin, pki, nodeNames, nodeProxyOptions, startKubeProxy, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
