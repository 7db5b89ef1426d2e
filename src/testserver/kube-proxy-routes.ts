/**
 * kube-proxy's endpoints behind the test API server's proxy subresources
 * (`nodes/NODE:PORT/proxy/…`, `pods/POD:PORT/proxy/…`), answered from the bundle's
 * `nodes/NODE/…` files as the real chain answers:
 * - `/healthz` is HTTP 503 with its JSON body when kube-proxy is unhealthy
 *   (pkg/proxy/healthcheck/proxy_health.go `ServeHTTP`: a queued update older than the
 *   health timeout, or `nodeEligible=false`), passed through by the proxy unchanged.
 * - `:10249` listens where `metricsBindAddress` says, `127.0.0.1:10249` by default
 *   (pkg/proxy/apis/config/v1alpha1/defaults.go): the API server dials the node's address
 *   and gets "connection refused", which it answers as a 503 Status
 *   (apimachinery pkg/util/proxy/transport.go, "error trying to reach service").
 */
import { parse as parseYaml } from 'yaml';
import { parseHealthz } from '../cluster/parse/healthz.js';
import type { BundleStore } from './bundle-store.js';
import { HttpError, unreachable } from './status.js';

export interface ProxiedResponse {
  readonly raw: string;
  readonly type: string;
  readonly status: number;
}

const endpoints: Readonly<Record<string, { file: string; type: string }>> = {
  '10256/healthz': { file: 'healthz.json', type: 'application/json' },
  '10249/metrics': { file: 'metrics.txt', type: 'text/plain; version=0.0.4; charset=utf-8' },
  '10249/proxyMode': { file: 'proxy-mode.txt', type: 'text/plain; charset=utf-8' },
};

/** The file behind a kube-proxy endpoint, for the debug pod's `curl http://127.0.0.1:PORT/PATH`. */
export function endpointFile(port: string, path: string): string | undefined {
  return endpoints[`${port}/${path}`]?.file;
}

/**
 * The node list and ConfigMaps come from the store's parsed documents, as a real API server
 * reads its watch cache: re-reading a 5,000-node `nodes.json` per request made each
 * `:10249` answer take ~80 ms, which a diagnosis through this server then measured.
 */
export async function kubeProxyEndpoint(
  store: BundleStore,
  node: string,
  port: string,
  path: string,
): Promise<ProxiedResponse | undefined> {
  const spec = endpoints[`${port}/${path}`];
  if (!spec) throw new HttpError(404, 'NotFound', `404 page not found`);
  if (port === '10249') {
    const bind = await metricsBindAddress(store);
    if (bind?.startsWith('127.0.0.1')) throw unreachable(`${await nodeAddress(store, node)}:10249`);
  }
  const text = await store.files.readText(`nodes/${node}/${spec.file}`);
  if (text.state === 'missing') return undefined;
  let status = 200;
  if (spec.file === 'healthz.json') {
    const health = parseHealthz(text.value);
    if (!('error' in health) && !health.healthy) status = 503;
  }
  return { raw: text.value, type: spec.type, status };
}

/** The KubeProxyConfiguration's `metricsBindAddress` (default applied); undefined when unknown. */
async function metricsBindAddress(store: BundleStore): Promise<string | undefined> {
  const doc = await store.doc('namespaces/kube-system/configmaps.json');
  if (doc === undefined) return undefined;
  for (const cm of (doc as { items?: { data?: Record<string, string> }[] }).items ?? [])
    for (const text of Object.values(cm.data ?? {}))
      if (/kind:\s*KubeProxyConfiguration/.test(text)) {
        const value = (parseYaml(text) as { metricsBindAddress?: string } | null)?.metricsBindAddress;
        return value || '127.0.0.1:10249';
      }
  return undefined;
}

async function nodeAddress(store: BundleStore, node: string): Promise<string> {
  const doc = await store.doc('nodes.json');
  if (doc === undefined) return node;
  const item = ((doc as { items?: Record<string, unknown>[] }).items ?? []).find(
    (n) => (n.metadata as { name?: string } | undefined)?.name === node,
  ) as { status?: { addresses?: { type: string; address: string }[] } } | undefined;
  return item?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? node;
}
