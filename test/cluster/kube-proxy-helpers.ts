/**
 * What the kube-proxy fault tests do to the lab's kube-proxy DaemonSet (lab/manifests/
 * kube-proxy.yaml; each pod is the real kube-proxy process in its node's network
 * namespace, lab/src/kube-proxy-pods.ts): find a node's pod and process, read its healthz
 * through the apiserver's node proxy, and put the DaemonSet back as the manifest has it.
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import path from 'node:path';
import type { LabInfo } from './lab-global-setup.js';
import { admin, eventually } from './lab-helpers.js';

const manifest = path.resolve(import.meta.dirname, '../../lab/manifests/kube-proxy.yaml');

export interface KubeProxyPodState {
  name: string;
  node: string;
  ready: boolean;
  restartCount: number;
  waiting?: string;
  /** `lab://PID`: the process the lab runs for the container. */
  containerID?: string;
}

export async function kubeProxyPods(lab: LabInfo): Promise<KubeProxyPodState[]> {
  const out = await admin(lab, [
    'get',
    'pods',
    '-n',
    'kube-system',
    '-l',
    'k8s-app=kube-proxy',
    '-o',
    'json',
  ]);
  const list = JSON.parse(out) as {
    items: {
      metadata: { name: string; deletionTimestamp?: string };
      spec: { nodeName?: string };
      status?: {
        containerStatuses?: {
          ready: boolean;
          restartCount: number;
          containerID?: string;
          state?: { waiting?: { reason?: string } };
        }[];
      };
    }[];
  };
  return list.items
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => {
      const c = p.status?.containerStatuses?.[0];
      return {
        name: p.metadata.name,
        node: p.spec.nodeName ?? '',
        ready: c?.ready ?? false,
        restartCount: c?.restartCount ?? 0,
        ...(c?.state?.waiting?.reason ? { waiting: c.state.waiting.reason } : {}),
        ...(c?.containerID ? { containerID: c.containerID } : {}),
      };
    });
}

/** The PID of the kube-proxy process running for `node`'s pod (its container ID). */
export async function kubeProxyPid(lab: LabInfo, node: string): Promise<number> {
  return eventually(`the running kube-proxy of ${node}`, async () => {
    const pod = (await kubeProxyPods(lab)).find((p) => p.node === node && p.ready);
    const pid = Number(/^lab:\/\/(\d+)$/.exec(pod?.containerID ?? '')?.[1]);
    return pid > 0 ? pid : undefined;
  });
}

/**
 * The DNAT targets kube-proxy programmed on `node` for `ns/service:port`, read the way
 * kproxy reads them: `iptables-save -t nat` exec'd in that node's kube-proxy pod.
 */
export async function programmedBackends(lab: LabInfo, node: string, svcPort: string): Promise<string[]> {
  const pod = (await kubeProxyPods(lab)).find((p) => p.node === node && p.ready);
  if (!pod) return [];
  const nat = await admin(lab, ['exec', '-n', 'kube-system', pod.name, '--', 'iptables-save', '-t', 'nat']);
  return nat
    .split('\n')
    .filter(
      (l) => l.startsWith('-A KUBE-SEP-') && l.includes(`--comment "${svcPort}"`) && l.includes('-j DNAT'),
    )
    .map((l) => /--to-destination (\S+)/.exec(l)?.[1] ?? '')
    .sort();
}

/** Waits until every node has one Ready kube-proxy pod that has not restarted. */
export async function kubeProxyReadyEverywhere(lab: LabInfo): Promise<KubeProxyPodState[]> {
  return eventually('a fresh Ready kube-proxy pod on every node', async () => {
    const pods = await kubeProxyPods(lab);
    const fine = lab.nodeNames.every(
      (n) => pods.filter((p) => p.node === n).length === 1 && pods.some((p) => p.node === n && p.ready),
    );
    return fine ? pods : undefined;
  });
}

/** Deletes `node`'s kube-proxy pod and waits for the DaemonSet's new one (a fresh process). */
export async function recreateKubeProxy(lab: LabInfo, node: string): Promise<void> {
  const old = (await kubeProxyPods(lab)).find((p) => p.node === node);
  if (old) await admin(lab, ['delete', 'pod', '-n', 'kube-system', old.name, '--wait=true']);
  await eventually(`a new Ready kube-proxy pod on ${node}`, async () => {
    const pods = await kubeProxyPods(lab);
    return pods.some((p) => p.node === node && p.ready && p.name !== old?.name) ? true : undefined;
  });
}

/** The ConfigMap and DaemonSet as the manifest has them, rolled, every pod Ready again. */
export async function restoreKubeProxy(lab: LabInfo): Promise<void> {
  await admin(lab, ['apply', '-f', manifest]);
  await admin(lab, ['rollout', 'restart', 'daemonset/kube-proxy', '-n', 'kube-system']);
  await admin(lab, ['rollout', 'status', 'daemonset/kube-proxy', '-n', 'kube-system', '--timeout=240s']);
  await kubeProxyReadyEverywhere(lab);
}

/**
 * GET through the apiserver as the admin, with the status and body whatever they are
 * (kubectl get --raw prints no body for a 503, and kube-proxy's 503 body is the reading).
 */
export async function apiGet(lab: LabInfo, urlPath: string): Promise<{ status: number; body: string }> {
  const [ca, cert, key] = await Promise.all([
    readFile(lab.caCert),
    readFile(lab.adminCert.cert),
    readFile(lab.adminCert.key),
  ]);
  return new Promise((resolve, reject) => {
    const req = request(new URL(urlPath, lab.server), { ca, cert, key, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}
