/**
 * What the remediation actions do to a cluster. Each action plans from the cluster's
 * current state (re-validating the target: it still exists and is still in the state the
 * request was made for) and returns the exact writes — shown as the dry-run preview, and
 * planned again, then executed, when the approval is reached.
 *
 * Built so far: the YELLOW Kubernetes actions. drain-node, the EKS add-on update and the
 * IPVS switch are refused at planning until they are implemented.
 */
import type { Fetched, KubeHttp } from '../cluster/live/kube-http.js';
import type { ActionId } from './actions.js';

export interface ActionTarget {
  readonly action: ActionId;
  readonly node?: string | undefined;
}

export interface PlannedWrite {
  readonly method: 'PATCH' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
  /** The write in words, for the approval message and the audit. */
  readonly describe: string;
}

export interface Plan {
  readonly summary: string;
  readonly writes: readonly PlannedWrite[];
}

const strategicMerge = 'application/strategic-merge-patch+json';
const mergePatch = 'application/merge-patch+json';
const ks = 'kube-system';

export async function planAction(
  http: KubeHttp,
  target: ActionTarget,
  now: () => Date = () => new Date(),
): Promise<Fetched<Plan>> {
  switch (target.action) {
    case 'restart-kube-proxy':
      return planRestart(http, now);
    case 'delete-kube-proxy-pod':
      return target.node ? planDeletePod(http, target.node) : refused('delete-kube-proxy-pod needs a node');
    case 'cordon-node':
      return target.node ? planCordon(http, target.node) : refused('cordon-node needs a node');
    default:
      return refused(
        `${target.action} is not available in this kproxy version; follow the report's steps by hand`,
      );
  }
}

/** The Kubernetes identity writes are made as (the approving human), when configured. */
export interface Impersonation {
  readonly user: string;
  readonly groups: readonly string[];
}

/** Performs a plan's writes in order; stops at the first refusal and says what was done. */
export async function executePlan(
  http: KubeHttp,
  plan: Plan,
  as?: Impersonation,
): Promise<{ ok: boolean; done: string[]; error?: string }> {
  const headers: Record<string, string | readonly string[]> = as
    ? { 'Impersonate-User': as.user, ...(as.groups.length > 0 ? { 'Impersonate-Group': as.groups } : {}) }
    : {};
  const done: string[] = [];
  for (const write of plan.writes) {
    const call = {
      verb: write.method === 'PATCH' ? 'patch' : 'delete',
      resource: resourceOf(write.path),
      namespace: namespaceOf(write.path),
    };
    const res = await http.send(
      write.method,
      write.path,
      write.body ?? { apiVersion: 'v1', kind: 'DeleteOptions' },
      call,
      write.contentType ?? 'application/json',
      headers,
    );
    if (!res.ok) return { ok: false, done, error: `${write.describe}: ${res.reason}` };
    done.push(write.describe);
  }
  return { ok: true, done };
}

async function planRestart(http: KubeHttp, now: () => Date): Promise<Fetched<Plan>> {
  const path = `/apis/apps/v1/namespaces/${ks}/daemonsets/kube-proxy`;
  const ds = await http.getJson(path, {}, { verb: 'get', resource: 'daemonsets.apps', namespace: ks });
  if (!ds.ok) return ds.status === 404 ? refused('there is no kube-proxy DaemonSet in kube-system') : ds;
  // What `kubectl rollout restart` writes: a new template annotation, as a strategic merge patch.
  const at = now()
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z');
  return {
    ok: true,
    value: {
      summary:
        'Rollout-restart the kube-proxy DaemonSet: every node gets a new kube-proxy pod, one batch at a time',
      writes: [
        {
          method: 'PATCH',
          path,
          contentType: strategicMerge,
          body: {
            spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } },
          },
          describe: `PATCH DaemonSet ${ks}/kube-proxy spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]=${at}`,
        },
      ],
    },
  };
}

async function planDeletePod(http: KubeHttp, node: string): Promise<Fetched<Plan>> {
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

async function planCordon(http: KubeHttp, node: string): Promise<Fetched<Plan>> {
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
      writes: [
        {
          method: 'PATCH',
          path,
          contentType: mergePatch,
          body: { spec: { unschedulable: true } },
          describe: `PATCH Node ${node} spec.unschedulable=true`,
        },
      ],
    },
  };
}

function refused(reason: string): Fetched<never> {
  return { ok: false, status: 0, reason };
}

function resourceOf(path: string): string {
  if (path.includes('/daemonsets/')) return 'daemonsets.apps';
  if (path.includes('/pods/')) return 'pods';
  return 'nodes';
}

function namespaceOf(path: string): string | undefined {
  return /\/namespaces\/([^/]+)\//.exec(path)?.[1];
}
