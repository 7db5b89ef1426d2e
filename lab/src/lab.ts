// A real Kubernetes control plane on loopback for kproxy's cluster suite: etcd, the
// kube-apiserver (TLS, Node+RBAC authorizers, Pod Security and NodeRestriction admission,
// service-account tokens signed by the apiserver), the controller-manager (the token,
// service-account, namespace, GC, EndpointSlice, Deployment/ReplicaSet/DaemonSet and
// disruption controllers), the scheduler, and kwok playing the kubelets of N fake nodes
// (pods on them become Running and Ready). Every listener is on 127.0.0.1.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kubectl } from './kubectl.js';
import { type NodeProxy, type NodeProxyOptions, startNodeProxy } from './node-proxy.js';
import { kubeconfigYaml, type LabPki, makePki } from './pki.js';
import { freePort } from './ports.js';
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

const clusterCidr = '10.244.0.0/16';

export const serviceAccountIssuer = 'https://kubernetes.default.svc.cluster.local';

function controllerManagerArgs(dir: string, pki: LabPki, port: number): string[] {
  const kubeconfig = path.join(dir, 'controller-manager.kubeconfig');
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${path.join(dir, 'controller-manager-certs')}`,
    '--leader-elect=false',
    // The controllers kproxy's scenarios need; node-lifecycle lifts the not-ready taint the
    // apiserver puts on new nodes (TaintNodesByCondition) once kwok reports them Ready.
    '--controllers=node-lifecycle-controller,serviceaccount-token-controller,serviceaccount-controller,root-ca-certificate-publisher-controller,namespace-controller,garbage-collector-controller,endpointslice-controller,endpoints-controller,deployment-controller,replicaset-controller,daemonset-controller,disruption-controller',
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    '--use-service-account-credentials=true',
  ];
}

function apiserverArgs(dir: string, pki: LabPki, etcdUrl: string, port: number): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${path.join(dir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.serving.cert}`,
    `--tls-private-key-file=${pki.serving.key}`,
    `--client-ca-file=${pki.caCert}`,
    `--kubelet-client-certificate=${pki.apiserverKubeletClient.cert}`,
    `--kubelet-client-key=${pki.apiserverKubeletClient.key}`,
    '--authorization-mode=Node,RBAC',
    // PodSecurity and ServiceAccount are on by default; NodeRestriction is what kubeadm adds.
    '--enable-admission-plugins=NodeRestriction',
    `--service-account-issuer=${serviceAccountIssuer}`,
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    // The `kubernetes` Endpoints would carry 127.0.0.1, which endpoint validation refuses.
    '--endpoint-reconciler-type=none',
    '--allow-privileged=true',
    '--profiling=false',
  ];
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

/** Fake nodes for kwok (its annotation selects them). */
function nodeManifest(names: string[]): string {
  const items = names.map((name) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
      },
    },
  }));
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

/**
 * Loopback addresses for the fake nodes: the apiserver's node proxy refuses them
 * (IsProxyableHostname) instead of dialing anything, so no packet leaves the machine.
 * Written to the status subresource (create drops status); kwok keeps addresses it finds.
 */
async function setNodeAddresses(admin: string, names: string[]): Promise<void> {
  for (const [i, name] of names.entries()) {
    const addresses = [
      { type: 'InternalIP', address: `127.0.1.${i + 1}` },
      { type: 'Hostname', address: name },
    ];
    await kubectl(admin, [
      'patch',
      'node',
      name,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { addresses } }),
    ]);
  }
}

async function waitNodesReady(admin: string, names: string[], kwok: Component): Promise<void> {
  await waitFor(
    `${names.length} kwok node(s) Ready`,
    async () => {
      const out = await kubectl(admin, [
        'get',
        'nodes',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
      ]);
      return names.every((n) => out.includes(`${n}=True`));
    },
    kwok,
  );
}

export async function startLab(options: LabOptions): Promise<Lab> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-lab-'));
  const started: Component[] = [];
  const proxies: NodeProxy[] = [];
  const bin = (name: string) => path.join(options.binDir, name);
  const stop = async () => {
    for (const p of proxies.splice(0)) await p.stop();
    for (const c of [...started].reverse()) await stopComponent(c);
    if (!options.keepDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    const pki = await makePki(dir);
    const etcdClient = await freePort();
    const etcdPeer = await freePort();
    const apiPort = await freePort();
    const kcmPort = await freePort();
    const schedPort = await freePort();
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const etcd = startComponent(dir, 'etcd', bin('etcd'), [
      '--name=lab',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=lab=http://127.0.0.1:${etcdPeer}`,
      // A throwaway store on a loaded machine: durability buys nothing here.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    started.push(etcd);
    await waitFor('etcd /health', async () => (await fetch(`${etcdUrl}/health`)).ok, etcd);

    const server = `https://127.0.0.1:${apiPort}`;
    const admin = await writeKubeconfigs(dir, server, pki);
    const apiserver = startComponent(
      dir,
      'kube-apiserver',
      bin('kube-apiserver'),
      apiserverArgs(dir, pki, etcdUrl, apiPort),
    );
    started.push(apiserver);
    await waitFor(
      'kube-apiserver /readyz',
      async () => (await kubectl(admin, ['get', '--raw', '/readyz'])) === 'ok',
      apiserver,
    );

    const kcm = startComponent(
      dir,
      'kube-controller-manager',
      bin('kube-controller-manager'),
      controllerManagerArgs(dir, pki, kcmPort),
    );
    started.push(kcm);
    const scheduler = startComponent(dir, 'kube-scheduler', bin('kube-scheduler'), [
      `--kubeconfig=${path.join(dir, 'scheduler.kubeconfig')}`,
      `--authentication-kubeconfig=${path.join(dir, 'scheduler.kubeconfig')}`,
      `--authorization-kubeconfig=${path.join(dir, 'scheduler.kubeconfig')}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${schedPort}`,
      '--leader-elect=false',
    ]);
    started.push(scheduler);
    const kwok = startComponent(dir, 'kwok', bin('kwok'), [
      `--kubeconfig=${path.join(dir, 'kwok.kubeconfig')}`,
      `--config=${bin('kwok-stages.yaml')}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      // Pod IPs are status data only (nothing routes them); EndpointSlice validation refuses loopback ones.
      `--cidr=${clusterCidr}`,
      '--node-lease-duration-seconds=40',
    ]);
    started.push(kwok);

    const nodeNames = Array.from({ length: options.nodes }, (_, i) => `kwok-node-${i}`);
    await kubectl(admin, ['apply', '-f', '-'], nodeManifest(nodeNames));
    await setNodeAddresses(admin, nodeNames);
    await waitNodesReady(admin, nodeNames, kwok);
    // The service-account controller creating `default` shows the controller-manager works.
    await waitFor(
      'the default ServiceAccount',
      async () => {
        await kubectl(admin, ['get', 'serviceaccount', 'default', '-n', 'default']);
        return true;
      },
      kcm,
    );
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
