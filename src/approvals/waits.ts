/**
 * The bounded waits after an action's writes: the kube-proxy DaemonSet rollout
 * (`kubectl rollout status ds/kube-proxy`), and evicted pods being gone (`kubectl drain`'s
 * `waitForDelete`, k8s.io/kubectl/pkg/drain/drain.go).
 */
import type { Fetched, KubeHttp } from '../cluster/live/kube-http.js';
import { kubeSystem, refused } from './plan.js';

export interface WaitOptions {
  /** The bound on a wait. @defaultValue scaled with the node count (rollout), 300_000 (evictions) */
  readonly settleTimeoutMs?: number;
  /** A rollout with no progress for this long is reported as blocked. @defaultValue 300_000 */
  readonly stallTimeoutMs?: number;
  readonly pollIntervalMs?: number;
}

/**
 * A DaemonSet rolls one node at a time by default (`maxUnavailable: 1`), each node taking a
 * pod's termination, start and readiness: the bound grows with the nodes, within limits.
 */
export function rolloutBoundMs(nodes: number): number {
  return Math.min(2 * 3600_000, Math.max(300_000, nodes * 60_000));
}

interface DaemonSetStatus {
  metadata?: { generation?: number };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitForRollout(
  http: KubeHttp,
  options: WaitOptions,
  affectedNode?: string,
): Promise<Fetched<string>> {
  const path = `/apis/apps/v1/namespaces/${kubeSystem}/daemonsets/kube-proxy`;
  const started = Date.now();
  let bound = options.settleTimeoutMs;
  let last = '';
  let lastChange = started;
  for (;;) {
    const ds = await http.getJson<DaemonSetStatus>(
      path,
      {},
      { verb: 'get', resource: 'daemonsets.apps', namespace: kubeSystem },
    );
    if (!ds.ok) return refused(`could not follow the rollout: ${ds.reason}`);
    const s = ds.value.status ?? {};
    const desired = s.desiredNumberScheduled ?? 0;
    bound ??= rolloutBoundMs(desired);
    const updated = s.updatedNumberScheduled ?? 0;
    const available = s.numberAvailable ?? 0;
    const observed = (s.observedGeneration ?? 0) >= (ds.value.metadata?.generation ?? 0);
    const progress = `${updated}/${desired} kube-proxy pods updated, ${available}/${desired} available`;
    if (observed && updated >= desired && available >= desired)
      return {
        ok: true,
        value: `rollout complete: ${progress} (${Math.round((Date.now() - started) / 1000)} s)`,
      };
    const now = Date.now();
    if (progress !== last) {
      last = progress;
      lastChange = now;
    }
    const stalled = now - lastChange > (options.stallTimeoutMs ?? 300_000);
    if (stalled || now - started > bound) {
      const blocked = await blockedOn(http, affectedNode);
      return refused(
        `rollout ${stalled ? 'made no progress' : 'not complete within the wait bound'} (${Math.round((now - (stalled ? lastChange : started)) / 1000)} s, bound ${Math.round(bound / 1000)} s for ${desired} nodes): ${progress}${blocked}; check kubectl -n kube-system rollout status ds/kube-proxy`,
      );
    }
    await sleep(options.pollIntervalMs ?? 5000);
  }
}

interface PodState {
  metadata: { name: string };
  spec?: { nodeName?: string };
  status?: {
    conditions?: { type: string; status: string }[];
    containerStatuses?: { state?: { waiting?: { reason?: string; message?: string } } }[];
  };
}

/** Which kube-proxy pods hold the rollout up, the affected node's first. */
async function blockedOn(http: KubeHttp, affectedNode: string | undefined): Promise<string> {
  const pods = await http.getJson<{ items?: PodState[] }>(
    `/api/v1/namespaces/${kubeSystem}/pods`,
    { labelSelector: 'k8s-app=kube-proxy' },
    { verb: 'list', resource: 'pods', namespace: kubeSystem },
  );
  if (!pods.ok) return '';
  const notReady = (pods.value.items ?? []).filter(
    (p) => !(p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  if (notReady.length === 0) return '';
  const describe = (p: PodState) => {
    const waiting = p.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting;
    return `${p.metadata.name}${waiting?.reason ? ` ${waiting.reason}` : ' not Ready'}`;
  };
  const onAffected = notReady.find((p) => affectedNode && p.spec?.nodeName === affectedNode);
  if (onAffected) return `; blocked on the affected node ${affectedNode}: ${describe(onAffected)}`;
  return `; blocked on ${notReady
    .slice(0, 3)
    .map((p) => `${p.spec?.nodeName ?? '?'} (${describe(p)})`)
    .join(', ')}`;
}

/** Until every evicted pod is gone (404, or a new pod of the same name: another UID). */
export async function waitForPodsGone(
  http: KubeHttp,
  pods: readonly { namespace: string; name: string; uid?: string | undefined }[],
  options: WaitOptions,
): Promise<Fetched<string>> {
  const started = Date.now();
  const deadline = started + (options.settleTimeoutMs ?? 300_000);
  let left = [...pods];
  for (;;) {
    const still: typeof left = [];
    for (const p of left) {
      const got = await http.getJson<{ metadata?: { uid?: string } }>(
        `/api/v1/namespaces/${p.namespace}/pods/${p.name}`,
        {},
        { verb: 'get', resource: 'pods', namespace: p.namespace },
      );
      if (got.ok && (!p.uid || got.value.metadata?.uid === p.uid)) still.push(p);
      else if (!got.ok && got.status !== 404)
        return refused(`could not follow the evicted pods: ${got.reason}`);
    }
    left = still;
    if (left.length === 0)
      return {
        ok: true,
        value: `${pods.length} evicted pod(s) gone (${Math.round((Date.now() - started) / 1000)} s)`,
      };
    if (Date.now() > deadline)
      return refused(
        `evicted pods still terminating after the wait bound: ${left
          .slice(0, 5)
          .map((p) => `${p.namespace}/${p.name}`)
          .join(', ')}${left.length > 5 ? ` and ${left.length - 5} more` : ''}`,
      );
    await sleep(options.pollIntervalMs ?? 2000);
  }
}
