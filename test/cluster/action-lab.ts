/**
 * The lab states the action tests need, and kproxy's identities there: a kube-proxy
 * DaemonSet (the lab's own, or a kubeadm-shaped fixture kwok plays), kube-proxy not
 * running on a node, a node whose network is unavailable.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabInfo } from './lab-global-setup.js';
import { admin, eventually, renderBase } from './lab-helpers.js';

const rbacKinds = new Set([
  'Namespace',
  'ServiceAccount',
  'ClusterRole',
  'Role',
  'ClusterRoleBinding',
  'RoleBinding',
]);

/**
 * deploy/base's RBAC applied as-is, and one kubeconfig with kproxy's two identities, each a
 * token the lab's apiserver issued (TokenRequest): context `worker` (kproxy-worker, the
 * diagnosis) and `actions` (kproxy-actions, the action worker).
 */
export async function kproxyIdentities(lab: LabInfo, file: string): Promise<string> {
  const rbac = (await renderBase()).filter((m) => rbacKinds.has(m.kind));
  await admin(lab, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }));
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

/**
 * A kube-proxy DaemonSet and ConfigMap in kube-system: the lab's own when it has one, else
 * the kubeadm-shaped fixture (kwok runs its pods). Resolves once every pod is updated and
 * Ready; says whether the fixture was applied (then the caller removes it afterwards).
 */
export async function ensureKubeProxy(lab: LabInfo): Promise<boolean> {
  const exists = await admin(lab, ['get', 'daemonset', '-n', 'kube-system', 'kube-proxy', '-o', 'name'])
    .then(() => true)
    .catch(() => false);
  if (!exists)
    await admin(lab, ['apply', '-f', path.join(import.meta.dirname, 'fixtures/kube-proxy-kubeadm.yaml')]);
  await kubeProxySettled(lab);
  return !exists;
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

export async function removeKubeProxyFixture(lab: LabInfo): Promise<void> {
  await admin(lab, [
    'delete',
    '-f',
    path.join(import.meta.dirname, 'fixtures/kube-proxy-kubeadm.yaml'),
    '--ignore-not-found',
    '--wait=false',
  ]);
}

/** `name podUID` of the kube-proxy pod on `node`. */
export async function kubeProxyPodOn(lab: LabInfo, node: string): Promise<{ name: string; uid: string }> {
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
    'jsonpath={range .items[*]}{.metadata.name} {.metadata.uid}{"\\n"}{end}',
  ]);
  const rows = out.split('\n').filter(Boolean);
  if (rows.length !== 1) throw new Error(`expected one kube-proxy pod on ${node}, found: ${out}`);
  const [name, uid] = (rows[0] as string).split(' ') as [string, string];
  return { name, uid };
}

interface KubeProxyPodStatus {
  metadata: { name: string; deletionTimestamp?: string };
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
  return (JSON.parse(out) as { items: KubeProxyPodStatus[] }).items.find(
    (p) => !p.metadata.deletionTimestamp,
  );
}

/** The process behind a pod the lab itself runs (lab/src/kube-proxy-pods.ts: `lab://PID`); kwok's have none. */
const pidOf = (p: KubeProxyPodStatus | undefined) =>
  Number(/^lab:\/\/(\d+)$/.exec(p?.status?.containerStatuses?.[0]?.containerID ?? '')?.[1] ?? 0);

/** Whether the lab runs its kube-proxy pods as real processes (else kwok plays them). */
export async function kubeProxyIsProcess(lab: LabInfo): Promise<boolean> {
  return pidOf(await kubeProxyPodStatus(lab, lab.nodeNames[0] as string)) > 0;
}

/**
 * kube-proxy on `node` stops running: kproxy diagnoses `pod_crash` there. A pod kwok plays
 * fails its readiness probe (the lab's kwok Stage pod-readiness-failing); a pod the lab
 * runs as the real kube-proxy process is killed until the kubelet's back-off holds it in
 * CrashLoopBackOff for at least 40 s (10 s doubling per restart), long enough to diagnose.
 */
export async function failKubeProxyOn(lab: LabInfo, node: string): Promise<string> {
  const pod = await kubeProxyPodStatus(lab, node);
  if (!pod) throw new Error(`no kube-proxy pod on ${node}`);
  const name = pod.metadata.name;
  if (pidOf(pod) === 0) {
    await admin(lab, ['label', 'pod', '-n', 'kube-system', name, 'lab.kproxy.dev/readiness=failing']);
    await eventually(`${name} not Ready`, async () => {
      const p = await kubeProxyPodStatus(lab, node);
      return p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False')
        ? true
        : undefined;
    });
    return name;
  }
  await eventually(`${name} in CrashLoopBackOff for 40 s or more`, async () => {
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
  return name;
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
