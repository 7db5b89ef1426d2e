/**
 * The lab states the action tests need, and kproxy's identities there: the lab's
 * kube-proxy DaemonSet settled (each pod the real kube-proxy process, lab/src/
 * kube-proxy-pods.ts), kube-proxy not running on a node, a node whose network is unavailable.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { applyBaseRbac } from './fault-helpers.js';
import type { LabInfo } from './lab-global-setup.js';
import { admin, eventually } from './lab-helpers.js';

/**
 * deploy/base's RBAC applied as-is, and one kubeconfig with kproxy's two identities, each a
 * token the lab's apiserver issued (TokenRequest): context `worker` (kproxy-worker, the
 * diagnosis) and `actions` (kproxy-actions, the action worker).
 */
export async function kproxyIdentities(lab: LabInfo, file: string): Promise<string> {
  await applyBaseRbac(lab);
  const token = async (sa: string) =>
    (await admin(lab, ['create', 'token', sa, '-n', 'kproxy', '--duration=1h'])).trim();
  const users = [
    { name: 'kproxy-worker', user: { token: await token('kproxy-worker') } },
    { name: 'kproxy-actions', user: { token: await token('kproxy-actions') } },
  ];
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lab', cluster: { server: lab.server, 'certificate-authority': lab.caCert } }],
    users,
    contexts: [
      { name: 'worker', context: { cluster: 'lab', user: 'kproxy-worker' } },
      { name: 'actions', context: { cluster: 'lab', user: 'kproxy-actions' } },
    ],
    'current-context': 'worker',
  };
  await writeFile(file, JSON.stringify(kubeconfig), { mode: 0o600 });
  return file;
}

/** The kube-proxy DaemonSet's rollout is complete and every pod Ready (what `rollout status` waits for). */
export async function kubeProxySettled(lab: LabInfo): Promise<void> {
  await eventually('the kube-proxy DaemonSet settled', async () => {
    const ds = JSON.parse(
      await admin(lab, ['get', 'ds', '-n', 'kube-system', 'kube-proxy', '-o', 'json']),
    ) as {
      metadata: { generation: number };
      status: {
        observedGeneration?: number;
        desiredNumberScheduled: number;
        updatedNumberScheduled?: number;
        numberReady: number;
      };
    };
    const s = ds.status;
    const done =
      (s.observedGeneration ?? 0) >= ds.metadata.generation &&
      s.desiredNumberScheduled === lab.nodeNames.length &&
      s.updatedNumberScheduled === s.desiredNumberScheduled &&
      s.numberReady === s.desiredNumberScheduled;
    return done ? true : undefined;
  });
}

/** `name podUID` of the kube-proxy pod on `node`. */
export async function kubeProxyPodOn(lab: LabInfo, node: string): Promise<{ name: string; uid: string }> {
  const pods = await kubeProxyPodsOn(lab, node);
  const [pod] = pods;
  if (!pod || pods.length !== 1)
    throw new Error(`expected one kube-proxy pod on ${node}, found: ${pods.map((p) => p.metadata.name)}`);
  return { name: pod.metadata.name, uid: pod.metadata.uid };
}

interface KubeProxyPodStatus {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  status?: {
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      containerID?: string;
      restartCount?: number;
      state?: { waiting?: { reason?: string; message?: string } };
    }[];
  };
}

async function kubeProxyPodStatus(lab: LabInfo, node: string): Promise<KubeProxyPodStatus | undefined> {
  return (await kubeProxyPodsOn(lab, node)).find((p) => !p.metadata.deletionTimestamp);
}

async function kubeProxyPodsOn(lab: LabInfo, node: string): Promise<KubeProxyPodStatus[]> {
  const out = await admin(lab, [
    'get',
    'pods',
    '-n',
    'kube-system',
    '-l',
    'k8s-app=kube-proxy',
    '--field-selector',
    `spec.nodeName=${node}`,
    '-o',
    'json',
  ]);
  return (JSON.parse(out) as { items: KubeProxyPodStatus[] }).items;
}

/** The process behind a pod (lab/src/kube-proxy-pods.ts writes `lab://PID` as its container ID). */
const pidOf = (p: KubeProxyPodStatus | undefined) =>
  Number(/^lab:\/\/(\d+)$/.exec(p?.status?.containerStatuses?.[0]?.containerID ?? '')?.[1] ?? 0);

/**
 * kube-proxy on `node` stops running: kproxy diagnoses `pod_crash` there. The real process
 * is killed until the kubelet's back-off (the lab's, pod-status.ts: 10 s doubling per
 * restart) holds the pod in CrashLoopBackOff for at least 40 s, long enough to diagnose.
 */
export async function failKubeProxyOn(lab: LabInfo, node: string): Promise<string> {
  const pod = await kubeProxyPodStatus(lab, node);
  if (!pod) throw new Error(`no kube-proxy pod on ${node}`);
  await eventually(`${pod.metadata.name} in CrashLoopBackOff for 40 s or more`, async () => {
    const p = await kubeProxyPodStatus(lab, node);
    const c = p?.status?.containerStatuses?.[0];
    const backOff = Number(/^back-off (\d+)s/.exec(c?.state?.waiting?.message ?? '')?.[1] ?? 0);
    if (c?.state?.waiting?.reason === 'CrashLoopBackOff' && backOff >= 40) return true;
    const pid = pidOf(p);
    // Only this run's lab process for this node's kube-proxy (a status can lag its process).
    const cmdline = pid > 0 ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
    if (cmdline.includes('kube-proxy') && cmdline.includes(node)) process.kill(pid, 'SIGKILL');
    return undefined;
  });
  return pod.metadata.name;
}

/**
 * The node's network is unavailable: the condition the cloud route controller writes when
 * it could not create the node's route (k8s.io/cloud-provider controllers/route
 * route_controller.go updateNetworkingCondition: NetworkUnavailable=True, reason
 * NoRouteCreated, "RouteController failed to create a route"), as a status patch. kwok's
 * heartbeat (kwok-stages.yaml node-heartbeat-with-lease) rewrites conditions only after 10
 * minutes; `restore` writes back what the route controller writes on success.
 */
export async function setNetworkUnavailable(lab: LabInfo, node: string, unavailable: boolean): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const condition = unavailable
    ? { status: 'True', reason: 'NoRouteCreated', message: 'RouteController failed to create a route' }
    : { status: 'False', reason: 'RouteCreated', message: 'RouteController created a route' };
  const patch = {
    status: {
      conditions: [
        { type: 'NetworkUnavailable', ...condition, lastTransitionTime: now, lastHeartbeatTime: now },
      ],
    },
  };
  await admin(lab, [
    'patch',
    'node',
    node,
    '--subresource=status',
    '--type=strategic',
    '-p',
    JSON.stringify(patch),
  ]);
}
