/**
 * The narrow read port to a Kubernetes API server: raw JSON and text GETs, paginated
 * lists, writes and pod exec, authenticated from a kubeconfig by @kubernetes/client-node.
 * Raw JSON (not the generated model classes) so live objects are exactly what
 * `kubectl get -o json` and a bundle hold, and validate with the same schemas.
 *
 * Every request has a timeout and runs under a concurrency bound; failures become a
 * reason a human can act on (`forbidden: list pods in kube-system (RBAC: …)`), never an
 * exception that ends the diagnosis.
 *
 * Requests go through undici's `request` on one keep-alive Agent per cluster (see
 * cluster-agent.ts), not `fetch`: client-node's `applySecurityAuthentication` builds a new
 * dispatcher (a new TLS handshake) per call, and fetch's Headers fold a repeated header
 * into one comma-joined line, while the API server reads each `Impersonate-Group` line as
 * one group (apiserver endpoints/filters/impersonation.go reads `req.Header[…]` values).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import { request as undiciRequest } from 'undici';
import { clusterAgent } from './cluster-agent.js';
import { describe, explain, refusal } from './kube-errors.js';
import { execInPod } from './kube-exec.js';

export { describe } from './kube-errors.js';

export interface ApiCall {
  /** RBAC verb (`get`, `list`, `create`, `delete`), for the reason shown when refused. */
  readonly verb: string;
  /** RBAC resource, with subresource and group where relevant (`pods/log`, `endpointslices.discovery.k8s.io`). */
  readonly resource: string;
  readonly namespace?: string | undefined;
}

export type Fetched<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly status: number; readonly reason: string; readonly body?: string };

export interface KubeHttpOptions {
  /** Per request. @defaultValue 10_000 */
  readonly timeoutMs?: number;
  /** Per exec (a capture of a large ruleset takes longer than a GET). @defaultValue 60_000 */
  readonly execTimeoutMs?: number;
  /** Requests in flight at once. @defaultValue 8 */
  readonly concurrency?: number;
  /** Page size of list calls. @defaultValue 500 */
  readonly pageSize?: number;
  /**
   * A bearer token current at the time of each request (EKS: a presigned STS token lives
   * 15 minutes, shorter than an IPVS switch), used instead of the kubeconfig's credentials.
   */
  readonly bearerToken?: () => Promise<string>;
  /** Cancels every request of this client (a diagnosis's deadline, a shutdown). */
  readonly signal?: AbortSignal;
}

export interface KubeHttpStats {
  requests: number;
  bytes: number;
}

type Headers = Record<string, string | string[]>;

export class KubeHttp {
  readonly stats: KubeHttpStats = { requests: 0, bytes: 0 };
  /** The API server's clock (`Date` header of the latest response): "now" for the diagnosis. */
  serverDate: Date | undefined;
  private readonly timeoutMs: number;
  private readonly execTimeoutMs: number;
  private readonly pageSize: number;
  private readonly signal: AbortSignal | undefined;
  private readonly limit: <T>(task: () => Promise<T>) => Promise<T>;
  private readonly server: string;

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: KubeHttpOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.execTimeoutMs = options.execTimeoutMs ?? 60_000;
    this.pageSize = options.pageSize ?? 500;
    this.signal = options.signal;
    this.limit = pLimit(options.concurrency ?? 8);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
  }

  /** The API server's URL (keys per-cluster state such as the debug pod sweep). */
  get serverUrl(): string {
    return this.server;
  }

  async getText(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    call: ApiCall,
  ): Promise<Fetched<string>> {
    return this.limit(() => this.request(path, query, call));
  }

  async getJson<T = unknown>(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    call: ApiCall,
  ): Promise<Fetched<T>> {
    const text = await this.getText(path, query, call);
    if (!text.ok) return text;
    return parseJson<T>(text.value, call);
  }

  /**
   * Every item of a list, following `continue` tokens. A 410 Gone (the token expired, as
   * etcd compacted past it: apiserver storage/etcd3 `handleCompactedErrorForPaging`)
   * restarts the list from the first page, once; a second 410 is reported.
   */
  async listAll(
    path: string,
    query: Record<string, string | undefined>,
    call: ApiCall,
  ): Promise<Fetched<{ items: unknown[]; apiVersion?: string; kind?: string }>> {
    const first = await this.listPages(path, query, call);
    if (first.ok || first.status !== 410) return first;
    return this.listPages(path, query, call);
  }

  private async listPages(
    path: string,
    query: Record<string, string | undefined>,
    call: ApiCall,
  ): Promise<Fetched<{ items: unknown[]; apiVersion?: string; kind?: string }>> {
    const items: unknown[] = [];
    let head: { apiVersion?: string; kind?: string } | undefined;
    let token: string | undefined;
    do {
      const page = await this.getJson<{
        apiVersion?: string;
        kind?: string;
        items?: unknown[];
        metadata?: { continue?: string };
      }>(path, { ...query, limit: this.pageSize, continue: token }, call);
      if (!page.ok) return page;
      head ??= { apiVersion: page.value.apiVersion, kind: page.value.kind };
      items.push(...(page.value.items ?? []));
      token = page.value.metadata?.continue || undefined;
    } while (token);
    return { ok: true, value: { items, ...head } };
  }

  /** Runs a command in a container (read-only captures) and returns its stdout. */
  async exec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    call: ApiCall,
  ): Promise<Fetched<string>> {
    return this.limit(async () => {
      this.stats.requests++;
      const token = this.options.bearerToken ? await this.options.bearerToken() : undefined;
      const result = await execInPod(this.kc, { namespace, pod, container, command }, call, {
        timeoutMs: this.execTimeoutMs,
        ...(token ? { token } : {}),
        ...(this.signal ? { signal: this.signal } : {}),
      });
      if (result.ok) this.stats.bytes += result.value.length;
      return result;
    });
  }

  /**
   * A write: the debug pod's lifecycle, and approved remediation actions. `contentType`
   * picks the patch flavour (strategic merge for DaemonSets, merge for Nodes). A header
   * given several values is sent as several lines.
   */
  async send(
    method: 'POST' | 'DELETE' | 'PATCH',
    path: string,
    body: unknown,
    call: ApiCall,
    contentType = 'application/json',
    extraHeaders: Readonly<Record<string, string | readonly string[]>> = {},
  ): Promise<Fetched<string>> {
    return this.limit(() => this.request(path, {}, call, method, body, contentType, extraHeaders));
  }

  private async request(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    call: ApiCall,
    method: 'GET' | 'POST' | 'DELETE' | 'PATCH' = 'GET',
    body?: unknown,
    contentType = 'application/json',
    extraHeaders: Readonly<Record<string, string | readonly string[]>> = {},
  ): Promise<Fetched<string>> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    this.stats.requests++;
    try {
      const { agent, headers: auth } = await clusterAgent(this.kc);
      const headers: Headers = { ...auth, accept: 'application/json, */*' };
      if (this.options.bearerToken) headers.authorization = `Bearer ${await this.options.bearerToken()}`;
      if (body !== undefined) headers['content-type'] = contentType;
      for (const [k, v] of Object.entries(extraHeaders))
        headers[k.toLowerCase()] = typeof v === 'string' ? v : [...v];
      const response = await undiciRequest(url, {
        method,
        headers,
        dispatcher: agent,
        signal: this.signal
          ? AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.signal])
          : AbortSignal.timeout(this.timeoutMs),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.body.text();
      this.stats.bytes += text.length;
      const date = response.headers.date;
      if (typeof date === 'string' && !Number.isNaN(Date.parse(date))) this.serverDate = new Date(date);
      if (response.statusCode >= 200 && response.statusCode < 300) return { ok: true, value: text };
      return {
        ok: false,
        status: response.statusCode,
        reason: refusal(response.statusCode, text, call),
        body: text,
      };
    } catch (error) {
      return { ok: false, status: 0, reason: explain(error, call) };
    }
  }
}

function parseJson<T>(text: string, call: ApiCall): Fetched<T> {
  try {
    return { ok: true, value: JSON.parse(text) as T };
  } catch {
    return { ok: false, status: 0, reason: `invalid JSON from ${describe(call)}` };
  }
}
