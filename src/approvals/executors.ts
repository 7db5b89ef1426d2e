/**
 * What the remediation actions do to a cluster. Each action plans from the cluster's
 * current state (re-validating the target: it still exists and is still in the state the
 * request was made for) and returns the exact writes — shown as the dry-run preview, and
 * planned again, then executed, when the approval is reached.
 *
 * Built so far: the YELLOW Kubernetes actions and drain-node (RED: the Slack flow does not
 * offer RED actions yet). The EKS add-on update and the IPVS switch are refused at planning
 * until they are implemented.
 */
import type { Fetched, KubeHttp } from '../cluster/live/kube-http.js';
import type { ActionId } from './actions.js';

export interface ActionTarget {
  readonly action: ActionId;
  readonly node?: string | undefined;
}

export interface PlannedWrite {
  readonly method: 'PATCH' | 'DELETE' | 'POST';
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
    case 'drain-node':
      return target.node ? planDrain(http, target.node) : refused('drain-node needs a node');
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

export interface ExecuteOptions {
  /** How often an eviction refused by a PodDisruptionBudget (429) is tried again. */
  readonly evictionRetries?: number;
  readonly evictionRetryDelayMs?: number;
}

/**
 * Performs a plan's writes in order; stops at the first refusal and says what was done.
 * Evictions are the exception: one blocked by a PodDisruptionBudget is retried (as
 * `kubectl drain` does) and, if still blocked, reported while the rest go on.
 */
export async function executePlan(
  http: KubeHttp,
  plan: Plan,
  as?: Impersonation,
  options: ExecuteOptions = {},
): Promise<{ ok: boolean; done: string[]; error?: string }> {
  const retries = options.evictionRetries ?? 5;
  const delayMs = options.evictionRetryDelayMs ?? 5000;
  const blocked: string[] = [];
  const headers: Record<string, string | readonly string[]> = as
    ? { 'Impersonate-User': as.user, ...(as.groups.length > 0 ? { 'Impersonate-Group': as.groups } : {}) }
    : {};
  const done: string[] = [];
  for (const write of plan.writes) {
    const call = {
      verb: write.method === 'PATCH' ? 'patch' : write.method === 'POST' ? 'create' : 'delete',
      resource: resourceOf(write.path),
      namespace: namespaceOf(write.path),
    };
    const isEviction = write.path.endsWith('/eviction');
    let res = await sendWrite(http, write, call, headers);
    for (let attempt = 0; isEviction && !res.ok && res.status === 429 && attempt < retries; attempt++) {
      await sleep(delayMs);
      res = await sendWrite(http, write, call, headers);
    }
    if (!res.ok && isEviction && res.status === 429) {
      blocked.push(`${write.describe}: still refused by a PodDisruptionBudget after ${retries + 1} tries`);
      continue;
    }
    if (!res.ok) return { ok: false, done, error: `${write.describe}: ${res.reason}` };
    done.push(write.describe);
  }
  return blocked.length > 0 ? { ok: false, done, error: blocked.join('; ') } : { ok: true, done };
}

function sendWrite(
  http: KubeHttp,
  write: PlannedWrite,
  call: { verb: string; resource: string; namespace: string | undefined },
  headers: Record<string, string | readonly string[]>,
): Promise<Fetched<string>> {
  return http.send(
    write.method,
    write.path,
    write.body ?? { apiVersion: 'v1', kind: 'DeleteOptions' },
    call,
    write.contentType ?? 'application/json',
    headers,
  );
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
async function planDrain(http: KubeHttp, node: string): Promise<Fetched<Plan>> {
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

function refused(reason: string): Fetched<never> {
  return { ok: false, status: 0, reason };
}

function resourceOf(path: string): string {
  if (path.includes('/daemonsets/')) return 'daemonsets.apps';
  if (path.endsWith('/eviction')) return 'pods/eviction';
  if (path.includes('/pods/')) return 'pods';
  return 'nodes';
}

function namespaceOf(path: string): string | undefined {
  return /\/namespaces\/([^/]+)\//.exec(path)?.[1];
}
