// A real kube-proxy for one kwok node, in its own network namespace (`ip netns`; needs
// root), started directly (no pod): the rules test's own instances, next to the lab's
// kube-proxy DaemonSet (lab/src/kube-proxy-pods.ts). Inside the namespace it programs the
// netns' own netfilter tables, so its rules never touch the host's; it reaches the
// apiserver through the forwarders of forwarders.ts.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { startApiForwarders } from './forwarders.js';
import { kubeconfigYaml, type LabPki } from './pki.js';
import { type Component, startComponent, stopComponent, waitFor } from './processes.js';

const run = promisify(execFile);

export interface NodeProxyOptions {
  dir: string;
  binDir: string;
  apiPort: number;
  pki: LabPki;
  nodeName: string;
  clusterCidr: string;
  /** kube-proxy's --proxy-mode (default iptables). */
  mode?: 'iptables' | 'nftables';
}

export interface NodeProxy {
  netns: string;
  nodeName: string;
  kubeProxy: Component;
  /** `iptables-save` run inside the node's network namespace. */
  iptablesSave(table?: 'nat' | 'filter'): Promise<string>;
  /** `nft list table ip kube-proxy` inside the namespace (nftables mode). */
  nftTable(): Promise<string>;
  stop(): Promise<void>;
}

let sequence = 0;

function kubeProxyArgs(kubeconfig: string, o: NodeProxyOptions): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--hostname-override=${o.nodeName}`,
    `--proxy-mode=${o.mode ?? 'iptables'}`,
    `--cluster-cidr=${o.clusterCidr}`,
    '--metrics-bind-address=127.0.0.1:10249',
    '--healthz-bind-address=127.0.0.1:10256',
    // conntrack sysctls are not all per-namespace: leave the host's alone.
    '--conntrack-max-per-core=0',
    '--conntrack-tcp-timeout-established=0',
    '--conntrack-tcp-timeout-close-wait=0',
  ];
}

export async function startNodeProxy(o: NodeProxyOptions): Promise<NodeProxy> {
  const netns = `kproxy-lab-${process.pid}-${sequence++}`;
  const started: Component[] = [];
  let created = false;
  const stop = async () => {
    for (const c of [...started].reverse()) await stopComponent(c);
    if (created) await run('ip', ['netns', 'delete', netns]).catch(() => undefined);
  };
  try {
    await run('ip', ['netns', 'add', netns]);
    created = true;
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    started.push(...(await startApiForwarders(o.dir, netns, o.nodeName, o.apiPort)));
    const kubeconfig = path.join(o.dir, `kube-proxy-${o.nodeName}.kubeconfig`);
    await writeFile(
      kubeconfig,
      kubeconfigYaml('https://127.0.0.1:6443', o.pki.caCert, o.pki.kubeProxy, 'system:kube-proxy'),
    );
    const inNetns = async (args: string[]) =>
      (await run('ip', ['netns', 'exec', netns, ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
    const iptablesSave = (table: 'nat' | 'filter' = 'nat') => inNetns(['iptables-save', '-t', table]);
    const nftTable = () => inNetns(['nft', 'list', 'table', 'ip', 'kube-proxy']);
    const kubeProxy = startComponent(o.dir, `kube-proxy-${o.nodeName}`, 'ip', [
      'netns',
      'exec',
      netns,
      path.join(o.binDir, 'kube-proxy'),
      ...kubeProxyArgs(kubeconfig, o),
    ]);
    started.push(kubeProxy);
    // The first full sync writes KUBE-SERVICES (iptables) or the kube-proxy table (nftables).
    const synced =
      o.mode === 'nftables'
        ? async () => (await nftTable()).includes('chain services')
        : async () => (await iptablesSave()).includes(':KUBE-SERVICES');
    await waitFor(`kube-proxy's first sync on ${o.nodeName}`, synced, kubeProxy);
    return { netns, nodeName: o.nodeName, kubeProxy, iptablesSave, nftTable, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
