/**
 * What a live diagnosis reads for one affected node: kube-proxy's endpoints, its logs, and
 * the node captures, with the capture command chosen from the proxy mode kube-proxy runs.
 */
import { bundleLimits } from '../bundle/limits.js';
import type { MemoryBundle } from '../bundle/memory.js';
import type { Pod } from '../kube-types.js';
import type { KubeHttp } from './kube-http.js';
import {
  type EndpointFile,
  kubeProxyConfiguration,
  kubeProxyEndpoints,
  type ProxyVia,
  readKubeProxyEndpoints,
} from './kube-proxy-endpoints.js';
import {
  captureByDebugPod,
  captureByExec,
  type DebugPodOptions,
  type NodeCaptureMode,
} from './node-captures.js';

const ks = 'kube-system';

export interface NodeReadOptions {
  readonly nodeCaptures: NodeCaptureMode;
  readonly debugPod: DebugPodOptions;
  readonly proxyVia: ProxyVia;
}

export async function readNode(
  http: KubeHttp,
  bundle: MemoryBundle,
  node: string,
  systemPods: readonly Pod[],
  options: NodeReadOptions,
): Promise<void> {
  const kubeProxy = systemPods.find(
    (p) => p.spec.nodeName === node && p.metadata.labels?.['k8s-app'] === 'kube-proxy',
  );
  const [missing] = await Promise.all([
    readKubeProxyEndpoints(http, bundle, node, kubeProxy, options.proxyVia),
    kubeProxy ? readKubeProxyLogs(http, bundle, kubeProxy) : Promise.resolve(),
  ]);
  if (options.nodeCaptures === 'off') return;
  if (options.nodeCaptures === 'debug-pod') {
    // On the host network, the pod reads what the API server proxy could not (metrics on 127.0.0.1).
    const endpoints = Object.fromEntries(
      missing.map((file: EndpointFile) => {
        const { port, path } = kubeProxyEndpoints[file];
        return [file, ['curl', '-sS', '--max-time', '5', `http://127.0.0.1:${port}/${path}`]];
      }),
    );
    await captureByDebugPod(http, bundle, node, options.debugPod, endpoints);
    return;
  }
  if (!kubeProxy) {
    bundle.set(`nodes/${node}/iptables-save.txt`, { missing: `no kube-proxy pod on ${node} to exec into` });
    return;
  }
  await captureByExec(
    http,
    bundle,
    node,
    kubeProxy.metadata.name,
    containerOf(kubeProxy),
    await runningMode(bundle, node, kubeProxy),
  );
}

/**
 * The mode kube-proxy runs on the node: its startup line "Using … Proxier"
 * (cmd/kube-proxy/app/server_linux.go), else `/proxyMode`, else the ConfigMap's `mode`
 * (blank is iptables), else iptables, kube-proxy's default on Linux.
 */
export async function runningMode(bundle: MemoryBundle, node: string, kubeProxy: Pod): Promise<string> {
  const log = await bundle.readText(`logs/${ks}/${kubeProxy.metadata.name}/${containerOf(kubeProxy)}.log`);
  const line = log.state === 'collected' ? /Using (iptables|ipvs|nftables) Proxier/.exec(log.value) : null;
  if (line?.[1]) return line[1];
  const endpoint = await bundle.readText(`nodes/${node}/proxy-mode.txt`);
  if (endpoint.state === 'collected' && /^(iptables|ipvs|nftables)$/.test(endpoint.value.trim()))
    return endpoint.value.trim();
  const mode = (await kubeProxyConfiguration(bundle))?.mode;
  if (typeof mode === 'string' && /^(iptables|ipvs|nftables)$/.test(mode)) return mode;
  return 'iptables';
}

function containerOf(pod: Pod): string {
  return (
    pod.spec.containers.find((c) => c.name === 'kube-proxy')?.name ??
    pod.spec.containers[0]?.name ??
    'kube-proxy'
  );
}

async function readKubeProxyLogs(http: KubeHttp, bundle: MemoryBundle, pod: Pod): Promise<void> {
  const name = pod.metadata.name;
  const container = containerOf(pod);
  const base = `logs/${ks}/${name}/${container}`;
  const logCall = { verb: 'get', resource: 'pods/log', namespace: ks };
  const path = `/api/v1/namespaces/${ks}/pods/${name}/log`;
  const restarted = (pod.status?.containerStatuses ?? []).some((c) => c.restartCount > 0);
  const waiting = (pod.status?.containerStatuses ?? []).some((c) => c.state?.waiting);
  const [current, previous] = await Promise.all([
    waiting
      ? Promise.resolve(undefined)
      : http.getText(path, { container, tailLines: bundleLimits.logTailLines }, logCall),
    restarted
      ? http.getText(path, { container, tailLines: bundleLimits.logTailLines, previous: true }, logCall)
      : Promise.resolve(undefined),
  ]);
  if (current)
    bundle.set(`${base}.log`, current.ok ? { content: current.value } : { missing: current.reason });
  if (previous?.ok) bundle.set(`${base}.previous.log`, { content: previous.value });
}
