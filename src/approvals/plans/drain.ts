/**
 * drain-node as `kubectl drain --ignore-daemonsets` does it (k8s.io/kubectl/pkg/drain,
 * filters.go `GetPodsForDeletion` and its filters), never with `--force`:
 * - mirror pods (annotation `kubernetes.io/config.mirror`) are skipped: the kubelet owns them
 *   (`mirrorPodFilter`);
 * - DaemonSet pods are skipped, as with --ignore-daemonsets, but a pod whose DaemonSet no
 *   longer exists refuses the drain, as without --force (`daemonSetFilter`);
 * - pods no controller recreates refuse the drain, as without --force (`unreplicatedFilter`);
 * - pods with emptyDir volumes lose that data: listed in the dry run, and the drain is refused
 *   unless data loss was accepted, as without --delete-emptydir-data (`localStorageFilter`);
 * - finished pods (Succeeded/Failed) pass every filter and are evicted like the rest;
 * - pods already being deleted are left to finish (`skipDeletedFilter`).
 * Then cordon and evict (never delete); the executor treats a 404 on eviction as done, retries
 * a 429 (PodDisruptionBudget), and waits, bounded, until the evicted pods are gone
 * (drain.go `evictPods`, `waitForDelete`).
 */
import type { Fetched, KubeHttp } from '../../cluster/live/kube-http.js';
import { type Plan, type PlannedWrite, refused } from '../plan.js';
import { cordonWrite } from './nodes.js';

interface PodSummary {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    deletionTimestamp?: string;
    annotations?: Record<string, string>;
    ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
  };
  spec?: { volumes?: { name?: string; emptyDir?: unknown }[] };
  status?: { phase?: string };
}

const podName = (p: PodSummary) => `${p.metadata?.namespace}/${p.metadata?.name}`;
const controllerOf = (p: PodSummary) =>
  (p.metadata?.ownerReferences ?? []).find((o) => o.controller) ?? p.metadata?.ownerReferences?.[0];
const finished = (p: PodSummary) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

export interface DrainOptions {
  /** The approver accepted that emptyDir data of the evicted pods is lost (--delete-emptydir-data). */
  readonly acceptEmptyDirDataLoss?: boolean;
}

export async function planDrain(
  http: KubeHttp,
  node: string,
  options: DrainOptions = {},
): Promise<Fetched<Plan>> {
  const got = await http.getJson<{ spec?: { unschedulable?: boolean } }>(
    `/api/v1/nodes/${node}`,
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
  const candidates = (pods.value.items ?? []).filter(
    (p) =>
      p.metadata?.name &&
      !p.metadata.deletionTimestamp &&
      !p.metadata.annotations?.['kubernetes.io/config.mirror'],
  );
  const daemonSetPods = candidates.filter((p) => controllerOf(p)?.kind === 'DaemonSet');
  const orphaned = await daemonSetsGone(http, daemonSetPods);
  if (!orphaned.ok) return orphaned;
  if (orphaned.value.length > 0)
    return refused(
      `node ${node} runs pods whose DaemonSet no longer exists (${orphaned.value.join(', ')}): kubectl drain refuses them without --force; delete them by hand first`,
    );
  const evict = candidates.filter((p) => controllerOf(p)?.kind !== 'DaemonSet');
  const unmanaged = evict.filter((p) => !finished(p) && !controllerOf(p));
  if (unmanaged.length > 0)
    return refused(
      `node ${node} runs pods no controller would recreate (${unmanaged.map(podName).join(', ')}): move or delete them by hand first`,
    );
  const emptyDir = evict.filter(
    (p) => !finished(p) && (p.spec?.volumes ?? []).some((v) => v.emptyDir !== undefined),
  );
  if (emptyDir.length > 0 && !options.acceptEmptyDirDataLoss)
    return refused(
      `node ${node} runs pods with emptyDir data that eviction deletes (${emptyDir.map(podName).join(', ')}): not drained unless the approver accepts losing that data`,
    );
  return { ok: true, value: drainPlan(node, got.value.spec?.unschedulable === true, evict, emptyDir) };
}

/** Cordon (unless cordoned), one eviction per pod, then wait for them to be gone. */
function drainPlan(node: string, cordoned: boolean, evict: PodSummary[], emptyDir: PodSummary[]): Plan {
  const evictions: PlannedWrite[] = evict.map((p) => {
    const { name, namespace } = p.metadata as { name: string; namespace: string };
    return {
      method: 'POST',
      path: `/api/v1/namespaces/${namespace}/pods/${name}/eviction`,
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } },
      describe: `EVICT Pod ${namespace}/${name}${emptyDir.includes(p) ? ' (its emptyDir data is lost)' : ''}`,
    };
  });
  return {
    summary: `Drain ${node}: cordon it, then evict its ${evictions.length} pod(s) and wait until they are gone (PodDisruptionBudgets are honoured; DaemonSet and mirror pods stay)${emptyDir.length > 0 ? `; emptyDir data of ${emptyDir.map(podName).join(', ')} is lost` : ''}`,
    writes: [...(cordoned ? [] : [cordonWrite(node)]), ...evictions],
    waitsForEvictions: evict.map((p) => ({
      namespace: p.metadata?.namespace as string,
      name: p.metadata?.name as string,
      uid: p.metadata?.uid,
    })),
  };
}

/** DaemonSet pods whose DaemonSet is gone (404), as drain's daemonSetFilter looks them up. */
async function daemonSetsGone(http: KubeHttp, pods: readonly PodSummary[]): Promise<Fetched<string[]>> {
  const gone: string[] = [];
  const seen = new Map<string, boolean>();
  for (const p of pods) {
    const ns = p.metadata?.namespace as string;
    const key = `${ns}/${controllerOf(p)?.name}`;
    if (!seen.has(key)) {
      const ds = await http.getJson(
        `/apis/apps/v1/namespaces/${ns}/daemonsets/${controllerOf(p)?.name}`,
        {},
        { verb: 'get', resource: 'daemonsets.apps', namespace: ns },
      );
      if (!ds.ok && ds.status !== 404) return ds;
      seen.set(key, !ds.ok);
    }
    if (seen.get(key)) gone.push(podName(p));
  }
  return { ok: true, value: gone };
}
