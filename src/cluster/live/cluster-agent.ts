/**
 * One keep-alive connection pool per cluster for the life of the process. client-node's
 * `applySecurityAuthentication` builds a new undici Agent on every call, so each request
 * would open a new connection (a TLS handshake on a real cluster); the dispatcher it
 * builds is kept here per cluster and user instead, while the credentials (headers) are
 * still taken from the kubeconfig per request, since tokens rotate.
 */
import { createHash } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestOptions } from 'node:https';
import { HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { Agent, type Dispatcher, ProxyAgent } from 'undici';

const agents = new Map<string, Promise<Dispatcher | undefined>>();

/** Connections per cluster: the same bound as a KubeHttp's requests in flight. */
export const connectionsPerCluster = 8;

/** The cluster's shared dispatcher and the current credentials for one request. */
export async function clusterAgent(
  kc: KubeConfig,
): Promise<{ agent: Dispatcher | undefined; headers: Record<string, string> }> {
  const key = agentKey(kc);
  const opts: RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  // Looked up after the await: concurrent first requests must share one agent.
  let agent = agents.get(key);
  if (!agent) {
    agent = createAgent(kc, opts);
    agents.set(key, agent);
    agent.catch(() => agents.delete(key));
  }
  return { agent: await agent, headers: flatten(opts.headers) };
}

/**
 * HTTP/1.1 only. undici negotiates HTTP/2 with a TLS server by default, and its HTTP/2
 * client joins the values of a repeated header into one (`a, b`: undici
 * lib/dispatcher/client-h2.js buildRequestHeaders), so two `Impersonate-Group` lines
 * reached the real apiserver as one group named "sre-oncall, kproxy-lab-node-operators"
 * and were refused (found on the lab). Over HTTP/1.1 each value is its own line, which the
 * apiserver reads as one group each (endpoints/filters/impersonation.go).
 */
const http1 = { allowH2: false } as const;

/**
 * client-node's own TLS mapping (`createDispatcherOptions`), on an Agent that keeps at most
 * `connectionsPerCluster` connections (through an HTTP proxy too); through a SOCKS proxy,
 * client-node's dispatcher as is.
 */
async function createAgent(kc: KubeConfig, opts: RequestOptions): Promise<Dispatcher | undefined> {
  const cluster = kc.getCurrentCluster();
  const tls = {
    ca: opts.ca,
    cert: opts.cert,
    key: opts.key,
    pfx: opts.pfx,
    passphrase: opts.passphrase,
    rejectUnauthorized: opts.rejectUnauthorized,
    servername: opts.servername,
  };
  const mapped = kc.createDispatcherOptions(cluster, tls);
  if (mapped.type === 'none') return new Agent({ connections: connectionsPerCluster, ...http1 });
  if (mapped.type === 'agent')
    return new Agent({ connect: mapped.connect, connections: connectionsPerCluster, ...http1 });
  if (mapped.type === 'proxy')
    return new ProxyAgent({
      uri: mapped.uri,
      requestTls: mapped.requestTls,
      connect: mapped.connect,
      connections: connectionsPerCluster,
      ...http1,
    });
  const ctx = new RequestContext(cluster?.server ?? '', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx.getDispatcher();
}

function flatten(headers: OutgoingHttpHeaders | readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers || Array.isArray(headers)) return out;
  for (const [k, v] of Object.entries(headers as OutgoingHttpHeaders))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}

/**
 * The key of a kubeconfig's current cluster and user, kept while they are the same objects:
 * hashing the TLS material on every request cost more than the request's own work.
 */
const keys = new WeakMap<KubeConfig, { cluster: unknown; user: unknown; key: string }>();

function agentKey(kc: KubeConfig): string {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  const known = keys.get(kc);
  if (known && known.cluster === cluster && known.user === user) return known.key;
  const key = computeAgentKey(cluster, user);
  keys.set(kc, { cluster, user, key });
  return key;
}

/** Server, user and TLS material: two kubeconfigs for the same cluster and identity share a pool. */
function computeAgentKey(
  cluster: ReturnType<KubeConfig['getCurrentCluster']>,
  user: ReturnType<KubeConfig['getCurrentUser']>,
): string {
  const tls = createHash('sha256')
    .update(
      JSON.stringify([
        cluster?.caData,
        cluster?.caFile,
        cluster?.skipTLSVerify,
        cluster?.tlsServerName,
        cluster?.proxyUrl,
        user?.certData,
        user?.certFile,
        user?.keyFile,
        user?.keyData ? createHash('sha256').update(user.keyData).digest('hex') : undefined,
      ]),
    )
    .digest('hex');
  return JSON.stringify([cluster?.server, user?.name, tls]);
}
