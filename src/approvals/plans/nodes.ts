/** Node actions: cordon, and drain (`kubectl drain` semantics). */
import type { Fetched, KubeHttp } from '../../cluster/live/kube-http.js';
import { mergePatch, type Plan, type PlannedWrite, refused } from '../plan.js';

export async function planCordon(http: KubeHttp, node: string): Promise<Fetched<Plan>> {
  const path = `/api/v1/nodes/${node}`;
  const got = await http.getJson<{ spec?: { unschedulable?: boolean } }>(
    path,
    {},
    { verb: 'get', resource: 'nodes' },
  );
  if (!got.ok) return got.status === 404 ? refused(`node ${node} no longer exists`) : got;
  if (got.value.spec?.unschedulable) return refused(`node ${node} is already cordoned`);
  return {
    ok: true,
    value: {
      summary: `Cordon ${node}: no new pods are scheduled there; running pods stay`,
      writes: [cordonWrite(node)],
    },
  };
}

function cordonWrite(node: string): PlannedWrite {
  return {
    method: 'PATCH',
    path: `/api/v1/nodes/${node}`,
    contentType: mergePatch,
    body: { spec: { unschedulable: true } },
    describe: `PATCH Node ${node} spec.unschedulable=true`,
  };
}

interface PodSummary {
  metadata?: {
    name?: string;
    namespace?: string;
    deletionTimestamp?: string;
    annotations?: Record<string, string>;
    ownerReferences?: { kind?: string; name?: string }[];
  };
  status?: { phase?: string };
}

/**
 * `kubectl drain` semantics: cordon, then evict (never delete) every pod on the node except
 * DaemonSet pods (they would come straight back), mirror pods (the kubelet owns them) and
 * finished pods. A pod no controller recreates would be lost, so drain refuses while one is there.
 */
export async function planDrain(http: KubeHttp, node: string): Promise<Fetched<Plan>> {
  const nodePath = `/api/v1/nodes/${node}`;
  const got = await http.getJson<{ spec?: { unschedulable?: boolean } }>(
    nodePath,
    {},
    { verb: 'get', resource: 'nodes' },
  );
  if (!got.ok) return got.status === 404 ? refused(`node ${node} no longer exists`) : got;
  const pods = await http.getJson<{ items?: PodSummary[] }>(
    '/api/v1/pods',
    { fieldSelector: `spec.nodeName=${node}` },
    { verb: 'list', resource: 'pods' },
  );
  if (!pods.ok) return pods;
  const running = (pods.value.items ?? []).filter(
    (p) =>
      p.metadata?.name &&
      !p.metadata.deletionTimestamp &&
      p.status?.phase !== 'Succeeded' &&
      p.status?.phase !== 'Failed' &&
      !p.metadata.annotations?.['kubernetes.io/config.mirror'] &&
      !(p.metadata.ownerReferences ?? []).some((o) => o.kind === 'DaemonSet'),
  );
  const unmanaged = running.filter((p) => (p.metadata?.ownerReferences ?? []).length === 0);
  if (unmanaged.length > 0)
    return refused(
      `node ${node} runs pods no controller would recreate (${unmanaged.map(podName).join(', ')}): move or delete them by hand first`,
    );
  const cordon = got.value.spec?.unschedulable ? [] : [cordonWrite(node)];
  const evictions: PlannedWrite[] = running.map((p) => {
    const { name, namespace } = p.metadata as { name: string; namespace: string };
    return {
      method: 'POST',
      path: `/api/v1/namespaces/${namespace}/pods/${name}/eviction`,
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } },
      describe: `EVICT Pod ${namespace}/${name}`,
    };
  });
  return {
    ok: true,
    value: {
      summary: `Drain ${node}: cordon it, then evict its ${evictions.length} pod(s) (PodDisruptionBudgets are honoured; DaemonSet and mirror pods stay)`,
      writes: [...cordon, ...evictions],
    },
  };
}

function podName(p: PodSummary): string {
  return `${p.metadata?.namespace}/${p.metadata?.name}`;
}
