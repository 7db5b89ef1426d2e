/**
 * kube-proxy's own endpoints for one node: `/healthz` on :10256, `/metrics` and
 * `/proxyMode` on :10249, read through the API server's proxy.
 *
 * - `via: 'nodes'` uses `nodes/NODE:PORT/proxy` (needs `get nodes/proxy`, which also grants
 *   the kubelet API, exec included: node-level superuser). `via: 'pods'` uses
 *   `pods/KUBE-PROXY-POD:PORT/proxy` in kube-system (needs only `get pods/proxy` there);
 *   kube-proxy pods run on the host network, so the pod's IP is the node's.
 * - An unhealthy kube-proxy answers `/healthz` with HTTP 503 and its JSON body
 *   (pkg/proxy/healthcheck/proxy_health.go `ServeHTTP`), and the proxy passes that through:
 *   that body is the reading, not a failure. A 503 `kind: Status` is the API server's own
 *   answer (the node did not answer) and is a failure.
 * - kube-proxy binds metrics to 127.0.0.1:10249 unless `metricsBindAddress` says otherwise
 *   (pkg/proxy/apis/config/v1alpha1/defaults.go), and no API server proxy reaches that: the
 *   reason then says so, instead of a bare 503.
 */
import { parse as parseYaml } from 'yaml';
import type { MemoryBundle } from '../bundle/memory.js';
import type { Pod } from '../kube-types.js';
import { statusOf } from './kube-errors.js';
import type { Fetched, KubeHttp } from './kube-http.js';

export const proxyViaModes = ['nodes', 'pods'] as const;
export type ProxyVia = (typeof proxyViaModes)[number];

/** Bundle file → port and path of kube-proxy's endpoint. */
export const kubeProxyEndpoints = {
  'healthz.json': { port: 10256, path: 'healthz' },
  'metrics.txt': { port: 10249, path: 'metrics' },
  'proxy-mode.txt': { port: 10249, path: 'proxyMode' },
} as const;
export type EndpointFile = keyof typeof kubeProxyEndpoints;

/** Reads the three endpoints into `nodes/NODE/…`; returns the files still missing. */
export async function readKubeProxyEndpoints(
  http: KubeHttp,
  bundle: MemoryBundle,
  node: string,
  kubeProxy: Pod | undefined,
  via: ProxyVia,
): Promise<EndpointFile[]> {
  const metricsBind = await metricsBindAddress(bundle);
  const missing: EndpointFile[] = [];
  await Promise.all(
    (Object.keys(kubeProxyEndpoints) as EndpointFile[]).map(async (file) => {
      const { port, path } = kubeProxyEndpoints[file];
      const got = await proxyGet(http, node, kubeProxy, via, port, path);
      if (got.ok) {
        bundle.set(`nodes/${node}/${file}`, { content: got.value });
        return;
      }
      missing.push(file);
      const localOnly = port === 10249 && got.status === 503 && metricsBind?.startsWith('127.0.0.1');
      bundle.set(`nodes/${node}/${file}`, {
        missing: localOnly
          ? `metrics bound to 127.0.0.1 (metricsBindAddress ${metricsBind}): not reachable through the API server proxy; --node-captures debug-pod reads it on the node`
          : got.reason,
      });
    }),
  );
  return missing;
}

async function proxyGet(
  http: KubeHttp,
  node: string,
  kubeProxy: Pod | undefined,
  via: ProxyVia,
  port: number,
  path: string,
): Promise<Fetched<string>> {
  if (via === 'pods' && !kubeProxy)
    return { ok: false, status: 0, reason: `no kube-proxy pod on ${node} to proxy to (pods/proxy)` };
  const got =
    via === 'pods' && kubeProxy
      ? await http.getText(
          `/api/v1/namespaces/kube-system/pods/${kubeProxy.metadata.name}:${port}/proxy/${path}`,
          {},
          { verb: 'get', resource: 'pods/proxy', namespace: 'kube-system' },
        )
      : await http.getText(
          `/api/v1/nodes/${node}:${port}/proxy/${path}`,
          {},
          { verb: 'get', resource: 'nodes/proxy' },
        );
  if (!got.ok && got.status === 503 && path === 'healthz' && got.body && isKubeProxyHealth(got.body))
    return { ok: true, value: got.body };
  return got;
}

/** kube-proxy's health JSON (`lastUpdated`, `currentTime`), not the API server's `kind: Status`. */
export function isKubeProxyHealth(body: string): boolean {
  if (statusOf(body)) return false;
  try {
    const doc = JSON.parse(body) as Record<string, unknown> | null;
    return typeof doc?.lastUpdated === 'string' && typeof doc.currentTime === 'string';
  } catch {
    return false;
  }
}

/** The KubeProxyConfiguration of the bundle's kube-system ConfigMaps, parsed. */
export async function kubeProxyConfiguration(
  bundle: MemoryBundle,
): Promise<Readonly<Record<string, unknown>> | undefined> {
  let doc: Awaited<ReturnType<MemoryBundle['readJson']>>;
  try {
    doc = await bundle.readJson('namespaces/kube-system/configmaps.json');
  } catch {
    return undefined;
  }
  if (doc.state !== 'collected') return undefined;
  const items = (doc.value as { items?: { data?: Record<string, string> }[] } | null)?.items ?? [];
  for (const cm of items)
    for (const text of Object.values(cm.data ?? {}))
      if (/kind:\s*KubeProxyConfiguration/.test(text)) return parsedConfiguration(text);
  return undefined;
}

/** The last configuration parsed (each node read asks, job after job), frozen: it is shared. */
let lastParsed: { text: string; value: Readonly<Record<string, unknown>> | undefined } | undefined;

function parsedConfiguration(text: string): Readonly<Record<string, unknown>> | undefined {
  if (lastParsed?.text !== text) {
    let value: Readonly<Record<string, unknown>> | undefined;
    try {
      value = deepFreeze((parseYaml(text) as Record<string, unknown>) ?? {});
    } catch {
      value = undefined;
    }
    lastParsed = { text, value };
  }
  return lastParsed.value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** `metricsBindAddress` with kube-proxy's default; undefined when the configuration is unknown. */
async function metricsBindAddress(bundle: MemoryBundle): Promise<string | undefined> {
  const config = await kubeProxyConfiguration(bundle);
  if (!config) return undefined;
  const value = config.metricsBindAddress;
  return typeof value === 'string' && value !== '' ? value : '127.0.0.1:10249 (default)';
}
