/**
 * Node captures on the live path (the `nodes/<node>/…` files of a bundle), for the
 * affected nodes only:
 * - `exec`: read-only commands in the node's kube-proxy pod (needs `create pods/exec`
 *   in kube-system): `iptables-save -t nat` and `-t filter` and the same of
 *   `ip6tables-save` (the IPv6 family of dual-stack and IPv6 clusters), or
 *   `nft list ruleset` (both the `ip` and the `ip6` kube-proxy tables).
 * - `debug-pod`: the operator's explicit opt-in to a short-lived privileged host-network
 *   pod on the node that runs every capture of the bundle format, labelled as kproxy's,
 *   with a deadline, and deleted afterwards even on failure.
 */
import type { MemoryBundle } from '../bundle/memory.js';
import type { Fetched, KubeHttp } from './kube-http.js';

export const nodeCaptureModes = ['off', 'exec', 'debug-pod'] as const;
export type NodeCaptureMode = (typeof nodeCaptureModes)[number];

export interface DebugPodOptions {
  /** @defaultValue nicolaka/netshoot (the image the SOPs use) */
  readonly image: string;
  /** @defaultValue kube-system */
  readonly namespace: string;
  /** How long to wait for the pod to run. @defaultValue 60_000 */
  readonly startTimeoutMs: number;
}

export const defaultDebugPod: DebugPodOptions = {
  image: 'nicolaka/netshoot',
  namespace: 'kube-system',
  startTimeoutMs: 60_000,
};

export const debugPodLabels = {
  'app.kubernetes.io/managed-by': 'kproxy',
  'kproxy.io/role': 'node-capture',
} as const;

/** Every capture of the bundle format: file → command. */
export const debugPodCaptures: Readonly<Record<string, string[]>> = {
  'iptables-save.txt': ['iptables-save'],
  'ip6tables-save.txt': ['ip6tables-save'],
  'ipvsadm.txt': ['ipvsadm', '-Ln'],
  'nft.txt': ['nft', 'list', 'ruleset'],
  'conntrack.txt': ['conntrack', '-S'],
  'sysctl.txt': ['sysctl', 'net.netfilter.nf_conntrack_count', 'net.netfilter.nf_conntrack_max'],
  'dmesg.txt': ['sh', '-c', 'dmesg | tail -n 200'],
  'lsmod.txt': ['lsmod'],
  'ip-link.txt': ['ip', '-o', 'link'],
};

const put = (bundle: MemoryBundle, rel: string, fetched: Fetched<string>) =>
  bundle.set(rel, fetched.ok ? { content: fetched.value } : { missing: fetched.reason });

/**
 * iptables-save and ip6tables-save of nat and filter ("has no endpoints" rules live in
 * filter), or the whole nft ruleset (kube-proxy's `ip` and `ip6` tables).
 */
export async function captureByExec(
  http: KubeHttp,
  bundle: MemoryBundle,
  node: string,
  kubeProxyPod: string,
  container: string,
  mode: string,
): Promise<void> {
  const call = { verb: 'create', resource: 'pods/exec', namespace: 'kube-system' };
  const exec = (command: string[]) => http.exec('kube-system', kubeProxyPod, container, command, call);
  if (mode === 'nftables') {
    put(bundle, `nodes/${node}/nft.txt`, await exec(['nft', 'list', 'ruleset']));
    return;
  }
  for (const tool of ['iptables-save', 'ip6tables-save']) {
    const [nat, filter] = await Promise.all([exec([tool, '-t', 'nat']), exec([tool, '-t', 'filter'])]);
    const file = `nodes/${node}/${tool}.txt`;
    if (!nat.ok) put(bundle, file, nat);
    else put(bundle, file, { ok: true, value: filter.ok ? `${filter.value}${nat.value}` : nat.value });
  }
}

export function debugPodManifest(node: string, options: DebugPodOptions): Record<string, unknown> {
  const suffix = Math.random().toString(36).slice(2, 7);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `kproxy-capture-${suffix}`,
      namespace: options.namespace,
      labels: { ...debugPodLabels, 'kproxy.io/node': node.slice(0, 63) },
    },
    spec: {
      nodeName: node,
      hostNetwork: true,
      hostPID: true,
      restartPolicy: 'Never',
      // The pod ends itself even if kproxy dies before deleting it.
      activeDeadlineSeconds: 600,
      terminationGracePeriodSeconds: 0,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'capture',
          image: options.image,
          command: ['sleep', '600'],
          securityContext: { privileged: true },
        },
      ],
    },
  };
}

/** Creates the capture pod, runs every capture, and deletes the pod whatever happened. */
export async function captureByDebugPod(
  http: KubeHttp,
  bundle: MemoryBundle,
  node: string,
  options: DebugPodOptions,
): Promise<void> {
  const ns = options.namespace;
  const manifest = debugPodManifest(node, options);
  const name = (manifest.metadata as { name: string }).name;
  const created = await http.send('POST', `/api/v1/namespaces/${ns}/pods`, manifest, {
    verb: 'create',
    resource: 'pods',
    namespace: ns,
  });
  if (!created.ok) {
    for (const file of Object.keys(debugPodCaptures))
      bundle.set(`nodes/${node}/${file}`, { missing: `debug pod not created: ${created.reason}` });
    return;
  }
  try {
    const running = await waitRunning(http, ns, name, options.startTimeoutMs);
    for (const [file, command] of Object.entries(debugPodCaptures)) {
      put(
        bundle,
        `nodes/${node}/${file}`,
        running.ok
          ? await http.exec(ns, name, 'capture', command, {
              verb: 'create',
              resource: 'pods/exec',
              namespace: ns,
            })
          : running,
      );
    }
  } finally {
    await http.send(
      'DELETE',
      `/api/v1/namespaces/${ns}/pods/${name}`,
      { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 },
      { verb: 'delete', resource: 'pods', namespace: ns },
    );
  }
}

async function waitRunning(
  http: KubeHttp,
  ns: string,
  name: string,
  timeoutMs: number,
): Promise<Fetched<true>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pod = await http.getJson<{ status?: { phase?: string } }>(
      `/api/v1/namespaces/${ns}/pods/${name}`,
      {},
      { verb: 'get', resource: 'pods', namespace: ns },
    );
    if (!pod.ok) return pod;
    const phase = pod.value.status?.phase;
    if (phase === 'Running') return { ok: true, value: true };
    if (phase === 'Failed' || phase === 'Succeeded')
      return {
        ok: false,
        status: 0,
        reason: `debug pod ${ns}/${name} ended (${phase}) before the captures ran`,
      };
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    ok: false,
    status: 0,
    reason: `debug pod ${ns}/${name} not Running after ${timeoutMs / 1000}s (image pull? admission policy?)`,
  };
}
