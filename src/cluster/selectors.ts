/** Label-selector matching and the well-known labels kproxy looks for. Pure. */
import type { ConfigMap, DaemonSet, LabelSelector, Pod } from './kube-types.js';

export const kubeProxyLabel = { key: 'k8s-app', value: 'kube-proxy' } as const;
export const serviceNameLabel = 'kubernetes.io/service-name';
export const coreDnsLabel = { key: 'k8s-app', value: 'kube-dns' } as const;

type Labels = Readonly<Record<string, string>> | null | undefined;

/** A Service selector (equality only). An empty selector selects nothing. */
export function matchesServiceSelector(labels: Labels, selector: Labels): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** A full LabelSelector (matchLabels + matchExpressions). An empty selector selects everything. */
export function matchesLabelSelector(labels: Labels, selector: LabelSelector | null | undefined): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels?.[k] !== v) return false;
  }
  for (const expr of selector.matchExpressions ?? []) {
    const value = labels?.[expr.key];
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function isKubeProxyPod(pod: Pod): boolean {
  return pod.metadata.labels?.[kubeProxyLabel.key] === kubeProxyLabel.value;
}

export function isCoreDnsPod(pod: Pod): boolean {
  return pod.metadata.labels?.[coreDnsLabel.key] === coreDnsLabel.value;
}

/** DaemonSet names of the CNI agents kproxy knows, with their usual pod label values. */
export const cniAgentNames = [
  'aws-node',
  'calico-node',
  'cilium',
  'kube-flannel-ds',
  'kube-flannel',
  'canal',
  'weave-net',
  'antrea-agent',
  'kube-router',
  'kindnet',
] as const;

export function isCniAgentName(name: string): boolean {
  return cniAgentNames.some((n) => name === n || name.startsWith(`${n}-`));
}

/** Pods owned by a CNI agent DaemonSet, by owner or by the pod's own name. */
export function isCniAgentPod(pod: Pod): boolean {
  const owner = pod.metadata.ownerReferences?.find((o) => o.kind === 'DaemonSet');
  if (owner) return isCniAgentName(owner.name);
  return isCniAgentName(pod.metadata.name);
}

/**
 * The ConfigMap holding kube-proxy's KubeProxyConfiguration. Follows the DaemonSet's
 * configMap volumes (EKS mounts `kube-proxy-config`, kubeadm `kube-proxy`), and falls
 * back to those two names when the DaemonSet is unknown.
 */
export function pickKubeProxyConfigMap(
  daemonSet: DaemonSet | undefined,
  configMaps: readonly ConfigMap[],
): { configMap: ConfigMap; key: string | undefined } | undefined {
  const candidates = kubeProxyConfigMapNames(daemonSet);
  const byName = new Map(configMaps.map((cm) => [cm.metadata.name, cm]));
  for (const name of candidates) {
    const cm = byName.get(name);
    if (!cm) continue;
    const key = Object.entries(cm.data ?? {}).find(([, v]) => /kind:\s*KubeProxyConfiguration/.test(v))?.[0];
    if (key) return { configMap: cm, key };
  }
  const first = candidates.map((n) => byName.get(n)).find((cm) => cm !== undefined);
  return first ? { configMap: first, key: undefined } : undefined;
}

/** The kube-proxy ConfigMap names the DaemonSet mounts (what a live source must read). */
export function kubeProxyConfigMapNames(daemonSet: DaemonSet | undefined): string[] {
  const mounted = (daemonSet?.spec.template.spec.volumes ?? [])
    .map((v) => v.configMap?.name)
    .filter((n): n is string => typeof n === 'string');
  return mounted.length > 0 ? mounted : ['kube-proxy-config', 'kube-proxy'];
}
