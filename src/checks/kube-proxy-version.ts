import type { Facts } from './lib/facts.js';
import { imageTag, parseMinorVersion } from './lib/versions.js';
import type { Check } from './types.js';
import { finding } from './types.js';

/**
 * kube-proxy vs control plane, by the Kubernetes version-skew policy: never newer than
 * the API server; at most three minors older (two when kube-proxy is older than 1.25).
 * The SOP asks for ±1: two or three minors behind is within policy but warned.
 * `node.status.nodeInfo.kubeProxyVersion` is deliberately not used: kubelet fills it
 * with its own version.
 */
export const kubeProxyVersion: Check = {
  id: 'kube-proxy.version',
  domain: 'kube-proxy',
  title: 'kube-proxy version vs control plane',
  run(view, facts) {
    if (view.version.state === 'missing')
      return finding(this, 'unknown', `control-plane version unknown: ${view.version.reason}`);
    const server = parseMinorVersion(view.version.value.gitVersion);
    const proxyInfo = facts.kubeProxyVersion;
    if (!proxyInfo)
      return finding(
        this,
        'unknown',
        'kube-proxy version unknown: no DaemonSet image tag, EKS add-on or "Version info" log line',
      );
    const proxy = parseMinorVersion(proxyInfo.version);
    if (!server || !proxy)
      return finding(
        this,
        'unknown',
        `cannot compare versions ${view.version.value.gitVersion} and ${proxyInfo.version}`,
      );
    const evidence = [`API server gitVersion: ${view.version.value.gitVersion}`, proxyInfo.source];
    const behind = (server.major - proxy.major) * 100 + (server.minor - proxy.minor);
    const allowed = proxy.major === 1 && proxy.minor < 25 ? 2 : 3;
    const pair = `kube-proxy ${proxyInfo.version} vs API server ${view.version.value.gitVersion}`;
    const skewed = (v: { major: number; minor: number }) => {
      const b = (server.major - v.major) * 100 + (server.minor - v.minor);
      return b < 0 || b > (v.major === 1 && v.minor < 25 ? 2 : 3);
    };
    const oldNodes = nodesRunning(facts, skewed);
    if (behind < 0) {
      return finding(
        this,
        'fail',
        `${pair}: kube-proxy is newer than the control plane, which the skew policy forbids`,
        {
          evidence,
          suspect: {
            category: 'version_skew',
            score: 0.75,
            detail: `${pair}: kube-proxy must not be newer than kube-apiserver${onNodes(oldNodes)}`,
            nodes: oldNodes,
          },
        },
      );
    }
    if (behind > allowed) {
      return finding(
        this,
        'fail',
        `${pair}: ${behind} minor versions behind, outside the supported skew of ${allowed}`,
        {
          evidence,
          suspect: {
            category: 'version_skew',
            score: 0.75,
            detail: `${pair}: ${behind} minors behind (policy allows ${allowed})${onNodes(oldNodes)}`,
            nodes: oldNodes,
          },
        },
      );
    }
    if (behind > 1)
      return finding(
        this,
        'warn',
        `${pair}: ${behind} minors behind; within policy, but the runbook expects ±1`,
        { evidence },
      );
    return finding(this, 'pass', `${pair}: within supported skew`, { evidence });
  },
};

/** Blast radius: every node whose kube-proxy pod runs an image out of policy (pods are read cluster-wide). */
function nodesRunning(facts: Facts, outOfPolicy: (v: { major: number; minor: number }) => boolean): string[] {
  const out: string[] = [];
  for (const [node, pods] of facts.kubeProxyPodsByNode) {
    const images = pods.flatMap((p) =>
      p.spec.containers.filter((c) => c.name === 'kube-proxy').map((c) => c.image),
    );
    const versions = images.map((i) => parseMinorVersion(imageTag(i) ?? '')).filter((v) => v !== undefined);
    if (versions.some(outOfPolicy)) out.push(node);
  }
  return out.sort();
}

function onNodes(nodes: readonly string[]): string {
  return nodes.length === 0
    ? ''
    : `; running on ${nodes.length} node(s): ${nodes.slice(0, 5).join(', ')}${nodes.length > 5 ? ', …' : ''}`;
}
