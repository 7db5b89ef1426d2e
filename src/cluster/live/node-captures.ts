/**
 * Node captures on the live path (the `nodes/<node>/…` files of a bundle), for the
 * affected nodes only:
 * - `exec`: read-only commands in the node's kube-proxy pod (needs `get` and `create` on
 *   `pods/exec` in kube-system): `iptables-save -t nat` and `-t filter` and the same of
 *   `ip6tables-save` (the IPv6 family of dual-stack and IPv6 clusters), or
 *   `nft list ruleset` (both the `ip` and the `ip6` kube-proxy tables), chosen by the mode
 *   kube-proxy runs; and the two conntrack sysctls with `cat` on /proc/sys (the kube-proxy
 *   image, distroless-iptables, ships cat but not sysctl: kubernetes/release
 *   images/build/distroless-iptables), written to sysctl.txt as `sysctl` prints them.
 * - `debug-pod`: the operator's explicit opt-in to a short-lived privileged host-network
 *   pod on the node that runs every capture of the bundle format, labelled as kproxy's,
 *   with a deadline, and deleted afterwards even on failure.
 */
import type { MemoryBundle } from '../bundle/memory.js';
import { tableLines } from '../parse/iptables.js';
import type { Fetched, KubeHttp } from './kube-http.js';

export const nodeCaptureModes = ['off', 'exec', 'debug-pod'] as const;
export type NodeCaptureMode = (typeof nodeCaptureModes)[number];

export interface DebugPodOptions {
  /** The capture image, pinned by digest. @defaultValue `${registry}/nicolaka/netshoot:v0.13@sha256:…` */
  readonly image: string;
  /** @defaultValue kube-system */
  readonly namespace: string;
  /** How long to wait for the pod to run. @defaultValue 60_000 */
  readonly startTimeoutMs: number;
}

/**
 * netshoot v0.13 (the image the SOPs use), by digest so every node runs the same bytes;
 * the same reference is pinned in several public projects (e.g. Cilium's socket-LB demo).
 */
export const netshootImage =
  'nicolaka/netshoot:v0.13@sha256:a20c2531bf35436ed3766cd6cfe89d352b050ccc4d7005ce6400adf97503da1b';

/** The default capture image from a registry mirror (air-gapped clusters). */
export function debugImageFrom(registry = 'docker.io'): string {
  return `${registry.replace(/\/$/, '')}/${netshootImage}`;
}

export const defaultDebugPod: DebugPodOptions = {
  image: debugImageFrom(),
  namespace: 'kube-system',
  startTimeoutMs: 60_000,
};

export const debugPodLabels = {
  'app.kubernetes.io/managed-by': 'kproxy',
  'kproxy.io/role': 'node-capture',
} as const;

/** Every capture of the bundle format: file → command. */
export const debugPodCaptures: Readonly<Record<string, string[]>> = {
  // The host's own iptables-save (in PID 1's mount and network namespaces): it matches the
  // host's backend (legacy or nft), which netshoot's binaries may not.
  'iptables-save.txt': ['nsenter', '-t', '1', '-m', '-n', 'iptables-save'],
  'ip6tables-save.txt': ['nsenter', '-t', '1', '-m', '-n', 'ip6tables-save'],
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
 * iptables-save ends every table it prints with `COMMIT` (iptables-save.c `do_output`): a
 * dump with a `*table` line and no `COMMIT` after it was cut short and would read as
 * missing rules, so it is not used. (No table at all is an empty ruleset, not a cut.)
 */
export function completeIptablesSave(fetched: Fetched<string>, what: string): Fetched<string> {
  if (!fetched.ok) return fetched;
  const { tables, commits } = tableLines(fetched.value);
  if (commits >= tables) return fetched;
  return { ok: false, status: 0, reason: `${what}: no COMMIT line in the output (cut short); not used` };
}

const conntrackSysctls = ['net.netfilter.nf_conntrack_count', 'net.netfilter.nf_conntrack_max'];

/** `cat` of the conntrack sysctls' /proc/sys files (what the kube-proxy image can run). */
export const conntrackCatCommand = [
  'cat',
  ...conntrackSysctls.map((k) => `/proc/sys/${k.replaceAll('.', '/')}`),
];

/** cat's two numbers as `sysctl` prints them (`name = value`), or why not. */
export function sysctlFromCat(fetched: Fetched<string>): Fetched<string> {
  if (!fetched.ok) return fetched;
  const values = fetched.value.trim().split('\n');
  if (values.length !== conntrackSysctls.length || !values.every((v) => /^\d+$/.test(v.trim())))
    return { ok: false, status: 0, reason: `${conntrackCatCommand.join(' ')}: unexpected output` };
  return { ok: true, value: conntrackSysctls.map((k, i) => `${k} = ${values[i]?.trim()}\n`).join('') };
}

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
  put(bundle, `nodes/${node}/sysctl.txt`, sysctlFromCat(await exec(conntrackCatCommand)));
  if (mode === 'nftables') {
    put(bundle, `nodes/${node}/nft.txt`, await exec(['nft', 'list', 'ruleset']));
    return;
  }
  for (const tool of ['iptables-save', 'ip6tables-save']) {
    const [nat, filter] = (await Promise.all([exec([tool, '-t', 'nat']), exec([tool, '-t', 'filter'])])).map(
      (r, i) => completeIptablesSave(r, `${tool} -t ${i === 0 ? 'nat' : 'filter'} in ${kubeProxyPod}`),
    ) as [Fetched<string>, Fetched<string>];
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
      // No API credentials inside a privileged pod.
      automountServiceAccountToken: false,
      // The pod ends itself even if kproxy dies before deleting it.
      activeDeadlineSeconds: 600,
      // 1, not 0: 0 would force-delete the API object while the container may still run.
      terminationGracePeriodSeconds: 1,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'capture',
          image: options.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', '600'],
          securityContext: { privileged: true },
        },
      ],
    },
  };
}

const podsCall = (ns: string, verb: string) => ({ verb, resource: 'pods', namespace: ns });

/**
 * Creates the capture pod, runs every capture (and reads the kube-proxy endpoints the API
 * server proxy could not reach, from the host network), and deletes the pod whatever happened.
 */
export async function captureByDebugPod(
  http: KubeHttp,
  bundle: MemoryBundle,
  node: string,
  options: DebugPodOptions,
  endpoints: Readonly<Record<string, string[]>> = {},
): Promise<void> {
  const ns = options.namespace;
  await sweepDebugPods(http, ns);
  const manifest = debugPodManifest(node, options);
  const name = (manifest.metadata as { name: string }).name;
  const captures = { ...debugPodCaptures, ...endpoints };
  const created = await http.send('POST', `/api/v1/namespaces/${ns}/pods`, manifest, podsCall(ns, 'create'));
  if (!created.ok) {
    for (const file of Object.keys(captures))
      bundle.set(`nodes/${node}/${file}`, { missing: `debug pod not created: ${created.reason}` });
    return;
  }
  try {
    const running = await waitRunning(http, ns, name, options.startTimeoutMs);
    for (const [file, command] of Object.entries(captures)) {
      const got = running.ok
        ? await http.exec(ns, name, 'capture', command, {
            verb: 'create',
            resource: 'pods/exec',
            namespace: ns,
          })
        : running;
      put(
        bundle,
        `nodes/${node}/${file}`,
        file.endsWith('tables-save.txt') ? completeIptablesSave(got, `${file} on ${node}`) : got,
      );
    }
  } finally {
    await deletePod(http, ns, name);
  }
}

export function deletePod(http: KubeHttp, ns: string, name: string): Promise<Fetched<string>> {
  return http.send(
    'DELETE',
    `/api/v1/namespaces/${ns}/pods/${name}`,
    { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 1 },
    podsCall(ns, 'delete'),
  );
}

const swept = new Set<string>();

/**
 * Once per process and namespace: deletes capture pods a crashed kproxy left behind, found by
 * label. Only finished ones or ones past their deadline, so another replica's pod in use stays.
 */
export async function sweepDebugPods(
  http: KubeHttp,
  ns: string,
  labels: Readonly<Record<string, string>> = debugPodLabels,
): Promise<string[]> {
  const key = `${http.serverUrl} ${ns} ${labels['kproxy.io/role']}`;
  if (swept.has(key)) return [];
  swept.add(key);
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const list = await http.getJson<{
    items?: { metadata: { name: string; creationTimestamp?: string }; status?: { phase?: string } }[];
  }>(`/api/v1/namespaces/${ns}/pods`, { labelSelector: selector }, podsCall(ns, 'list'));
  if (!list.ok) return [];
  // Past the longest deadline kproxy gives its pods (600 s): an expired pod is nobody's.
  const deadline = Date.now() - 600_000;
  const stale = (list.value.items ?? []).filter(
    (p) =>
      p.status?.phase === 'Succeeded' ||
      p.status?.phase === 'Failed' ||
      Date.parse(p.metadata.creationTimestamp ?? '') < deadline,
  );
  for (const p of stale) await deletePod(http, ns, p.metadata.name);
  return stale.map((p) => p.metadata.name);
}

interface PodState {
  status?: {
    phase?: string;
    containerStatuses?: { state?: { waiting?: { reason?: string; message?: string } } }[];
  };
}

export async function waitRunning(
  http: KubeHttp,
  ns: string,
  name: string,
  timeoutMs: number,
): Promise<Fetched<true>> {
  const deadline = Date.now() + timeoutMs;
  let waiting: { reason?: string; message?: string } | undefined;
  while (Date.now() < deadline) {
    const pod = await http.getJson<PodState>(
      `/api/v1/namespaces/${ns}/pods/${name}`,
      {},
      podsCall(ns, 'get'),
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
    waiting = pod.value.status?.containerStatuses?.[0]?.state?.waiting ?? waiting;
    await new Promise((r) => setTimeout(r, 500));
  }
  const why = waiting?.reason
    ? `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`
    : 'no container status yet (scheduling? admission?)';
  return {
    ok: false,
    status: 0,
    reason: `debug pod ${ns}/${name} not Running after ${timeoutMs / 1000}s: ${why}`,
  };
}
