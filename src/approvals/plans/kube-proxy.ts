/** kube-proxy actions: rollout restart, recreate the pod on one node, switch to IPVS mode. */
import { isMap, parseDocument } from 'yaml';
import type { Fetched, KubeHttp } from '../../cluster/live/kube-http.js';
import {
  type ExecutionContext,
  type KubeWrite,
  kubeSystem as ks,
  mergePatch,
  type Plan,
  refused,
  strategicMerge,
} from '../plan.js';
import { planIpvsThroughAddon } from './eks-addon.js';

const daemonSetPath = `/apis/apps/v1/namespaces/${ks}/daemonsets/kube-proxy`;

export async function planRestart(http: KubeHttp, now: () => Date): Promise<Fetched<Plan>> {
  const restart = await restartWrite(http, now);
  if (!restart.ok) return restart;
  return {
    ok: true,
    value: {
      summary:
        'Rollout-restart the kube-proxy DaemonSet: every node gets a new kube-proxy pod, one batch at a time',
      writes: [restart.value],
      waitsForRollout: true,
    },
  };
}

/** What `kubectl rollout restart` writes: a new template annotation, as a strategic merge patch. */
export async function restartWrite(http: KubeHttp, now: () => Date): Promise<Fetched<KubeWrite>> {
  const ds = await http.getJson(
    daemonSetPath,
    {},
    { verb: 'get', resource: 'daemonsets.apps', namespace: ks },
  );
  if (!ds.ok) return ds.status === 404 ? refused('there is no kube-proxy DaemonSet in kube-system') : ds;
  const at = now()
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z');
  return {
    ok: true,
    value: {
      method: 'PATCH',
      path: daemonSetPath,
      contentType: strategicMerge,
      body: {
        spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } },
      },
      describe: `PATCH DaemonSet ${ks}/kube-proxy spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]=${at}`,
    },
  };
}

export async function planDeletePod(http: KubeHttp, node: string): Promise<Fetched<Plan>> {
  const pods = await http.getJson<{ items?: { metadata?: { name?: string; deletionTimestamp?: string } }[] }>(
    `/api/v1/namespaces/${ks}/pods`,
    { labelSelector: 'k8s-app=kube-proxy', fieldSelector: `spec.nodeName=${node}` },
    { verb: 'list', resource: 'pods', namespace: ks },
  );
  if (!pods.ok) return pods;
  const live = (pods.value.items ?? []).filter((p) => p.metadata?.name && !p.metadata.deletionTimestamp);
  if (live.length !== 1)
    return refused(
      `expected one kube-proxy pod on ${node}, found ${live.length}: the cluster changed since the diagnosis`,
    );
  const name = live[0]?.metadata?.name as string;
  return {
    ok: true,
    value: {
      summary: `Delete the kube-proxy pod on ${node}; the DaemonSet recreates it and it resyncs every rule`,
      writes: [
        {
          method: 'DELETE',
          path: `/api/v1/namespaces/${ks}/pods/${name}`,
          describe: `DELETE Pod ${ks}/${name} (node ${node})`,
        },
      ],
    },
  };
}

/**
 * iptables → IPVS. On EKS with the managed add-on: the add-on's configuration values (what
 * AWS documents); otherwise the KubeProxyConfiguration in the kube-proxy ConfigMap. Either
 * way kube-proxy reads its configuration at start, so a rollout restart follows.
 */
export async function planSwitchToIpvs(ctx: ExecutionContext, now: () => Date): Promise<Fetched<Plan>> {
  const restart = await restartWrite(ctx.http, now);
  if (!restart.ok) return restart;
  if (ctx.eks) {
    const viaAddon = await planIpvsThroughAddon(ctx.eks, restart.value);
    if (!viaAddon.ok || viaAddon.value) return viaAddon as Fetched<Plan>;
  }
  const config = await findProxyConfig(ctx.http);
  if (!config.ok) return config;
  const { name, key, text } = config.value;
  const doc = parseDocument(text);
  const mode = String(doc.get('mode') ?? '') || 'iptables (default)';
  if (mode === 'ipvs') return refused(`kube-proxy is already configured for IPVS (ConfigMap ${ks}/${name})`);
  const scheduler = String(doc.getIn(['ipvs', 'scheduler']) ?? '');
  doc.set('mode', 'ipvs');
  if (!scheduler) doc.setIn(['ipvs', 'scheduler'], 'rr');
  const changes = [`mode ${mode} → ipvs`, ...(scheduler ? [] : ['ipvs.scheduler "" → rr'])];
  return {
    ok: true,
    value: {
      summary: `Switch kube-proxy to IPVS: edit the KubeProxyConfiguration in ConfigMap ${ks}/${name}, then restart kube-proxy on every node (disruptive; off-hours)`,
      writes: [
        {
          method: 'PATCH',
          path: `/api/v1/namespaces/${ks}/configmaps/${name}`,
          contentType: mergePatch,
          body: { data: { [key]: sameEnding(text, doc.toString()) } },
          describe: `PATCH ConfigMap ${ks}/${name} data["${key}"]: ${changes.join(', ')}`,
        },
        restart.value,
      ],
      waitsForRollout: true,
    },
  };
}

/**
 * The edited text ends as the original did: the yaml library always ends a document with a
 * newline, and kubeadm writes `config.conf` without one (a `|-` block in its ConfigMap
 * template, cmd/kubeadm/app/phases/addons/proxy/manifests.go): the edit changes only the
 * lines the dry run names.
 */
function sameEnding(original: string, edited: string): string {
  return original.endsWith('\n') ? edited : edited.replace(/\n+$/, '');
}

interface ConfigMapList {
  items?: { metadata?: { name?: string }; data?: Record<string, string> }[];
}

/** kubeadm keeps it in `kube-proxy` (`config.conf`), EKS in `kube-proxy-config` (`config`). */
async function findProxyConfig(
  http: KubeHttp,
): Promise<Fetched<{ name: string; key: string; text: string }>> {
  const list = await http.getJson<ConfigMapList>(
    `/api/v1/namespaces/${ks}/configmaps`,
    {},
    {
      verb: 'list',
      resource: 'configmaps',
      namespace: ks,
    },
  );
  if (!list.ok) return list;
  for (const cm of list.value.items ?? []) {
    const name = cm.metadata?.name ?? '';
    if (name !== 'kube-proxy' && name !== 'kube-proxy-config') continue;
    for (const [key, text] of Object.entries(cm.data ?? {})) {
      const doc = parseDocument(text);
      if (doc.errors.length === 0 && isMap(doc.contents) && doc.get('kind') === 'KubeProxyConfiguration')
        return { ok: true, value: { name, key, text } };
    }
  }
  return refused(
    'no KubeProxyConfiguration found in ConfigMap kube-system/kube-proxy or kube-proxy-config: kube-proxy is configured by flags here; change --proxy-mode by hand',
  );
}
