// One kwok per node, inside the node's network namespace (--manage-single-node): it plays
// the node (status, lease) and its pods, and serves the kubelet API on the node's
// InternalIP:10250 with a certificate of the lab's CA. Its static ClusterExec and
// ClusterLogs (kwok's own resources) make that API real for the kube-proxy container:
// - exec runs the command locally, i.e. in the node's network namespace with the node's
//   /run and PATH (iptables-legacy): `iptables-save` there prints the rules the node's
//   kube-proxy wrote;
// - containerLogs reads the files the lab's kubelet part writes for the kube-proxy
//   container (CRI log format, which kwok reads with the kubelet's own reader,
//   k8s.io/cri-client/pkg/logs), the current one and the previous one.
// kwok's pod stages leave kube-proxy pods alone (the lab's kubelet part owns their status:
// kwok cannot see a process), which is the one change made to kwokctl's default stages.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { NodeHost } from './node-netns.js';
import { nodeShell } from './node-netns.js';
import { issueNodeServing, kubeconfigYaml, type LabPki } from './pki.js';
import { type Component, startComponent } from './processes.js';

const labStages = path.resolve(import.meta.dirname, '../stages');

/** The kube-proxy container's log files on a node (see kube-proxy-pods.ts). */
export const kubeProxyLogFiles = (node: NodeHost) => ({
  current: path.join(node.dir, 'logs', 'kube-proxy.log'),
  previous: path.join(node.dir, 'logs', 'kube-proxy.previous.log'),
});

const notKubeProxy = { key: '.metadata.labels["k8s-app"]', operator: 'NotIn', values: ['kube-proxy'] };

/** kwokctl's default stages, each Pod stage extended to skip k8s-app=kube-proxy pods. */
export async function writeLabStages(labDir: string, binDir: string): Promise<string> {
  const docs = parseAllDocuments(await readFile(path.join(binDir, 'kwok-stages.yaml'), 'utf8'));
  const out = docs.map((d) => {
    const stage = d.toJS() as {
      spec: { resourceRef: { kind: string }; selector?: { matchExpressions?: unknown[] } };
    };
    if (stage.spec.resourceRef.kind === 'Pod') {
      stage.spec.selector ??= {};
      stage.spec.selector.matchExpressions = [...(stage.spec.selector.matchExpressions ?? []), notKubeProxy];
    }
    return stringify(stage);
  });
  const file = path.join(labDir, 'kwok-stages.yaml');
  await writeFile(file, out.map((d) => `---\n${d}`).join(''));
  return file;
}

function nodeConfig(node: NodeHost): string {
  const logs = kubeProxyLogFiles(node);
  const selector = { matchNamespaces: ['kube-system'] };
  const exec = {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterExec',
    metadata: { name: 'kube-proxy' },
    spec: { selector, execs: [{ containers: ['kube-proxy'], local: {} }] },
  };
  const clusterLogs = {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterLogs',
    metadata: { name: 'kube-proxy' },
    spec: {
      selector,
      logs: [{ containers: ['kube-proxy'], logsFile: logs.current, previousLogsFile: logs.previous }],
    },
  };
  return `---\n${stringify(exec)}---\n${stringify(clusterLogs)}`;
}

export interface NodeKwokOptions {
  labDir: string;
  binDir: string;
  pki: LabPki;
  stagesFile: string;
  /** The node's pod range (each kwok hands out pod IPs from its own). */
  podCidr: string;
}

export async function startNodeKwok(node: NodeHost, o: NodeKwokOptions): Promise<Component> {
  const kubeconfig = path.join(node.dir, 'kwok.kubeconfig');
  await writeFile(kubeconfig, kubeconfigYaml('https://127.0.0.1:6443', o.pki.caCert, o.pki.kwok, 'kwok'));
  const config = path.join(node.dir, 'kwok-node.yaml');
  await writeFile(config, nodeConfig(node));
  const serving = await issueNodeServing(o.labDir, node.name, node.ip);
  const args = [
    path.join(o.binDir, 'kwok'),
    `--kubeconfig=${kubeconfig}`,
    `--config=${o.stagesFile}`,
    `--config=${path.join(labStages, 'pod-readiness-failing.yaml')}`,
    `--config=${config}`,
    `--manage-single-node=${node.name}`,
    `--node-ip=${node.ip}`,
    '--node-port=10250',
    `--server-address=${node.ip}:10250`,
    `--tls-cert-file=${serving.cert}`,
    `--tls-private-key-file=${serving.key}`,
    // Pod IPs are status data only (nothing routes them); EndpointSlice validation refuses loopback ones.
    `--cidr=${o.podCidr}`,
    '--node-lease-duration-seconds=40',
  ];
  return startComponent(o.labDir, `kwok-${node.name}`, 'ip', nodeShell(node, args), {
    ...process.env,
    PATH: node.path,
  });
}
