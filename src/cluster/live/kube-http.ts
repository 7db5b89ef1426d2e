/**
 * The narrow read port to a Kubernetes API server: raw JSON and text GETs, paginated
 * lists, and pod exec, authenticated by @kubernetes/client-node from a kubeconfig.
 * Raw JSON (not the generated model classes) so live objects are exactly what
 * `kubectl get -o json` and a bundle hold, and validate with the same schemas.
 *
 * Every request has a timeout and runs under a concurrency bound; failures become a
 * reason a human can act on (`forbidden: list pods in kube-system (RBAC)`), never an
 * exception that ends the diagnosis.
 */
import { Writable } from 'node:stream';
import { Exec, HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import { fetch } from 'undici';

export interface ApiCall {
  /** RBAC verb (`get`, `list`, `create`, `delete`), for the reason shown when refused. */
  readonly verb: string;
  /** RBAC resource, with subresource and group where relevant (`pods/log`, `endpointslices.discovery.k8s.io`). */
  readonly resource: string;
  readonly namespace?: string | undefined;
}

export type Fetched<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly status: number; readonly reason: string };

export interface KubeHttpOptions {
  /** Per request. @defaultValue 10_000 */
  readonly timeoutMs?: number;
  /** Requests in flight at once. @defaultValue 8 */
  readonly concurrency?: number;
  /** Page size of list calls. @defaultValue 500 */
  readonly pageSize?: number;
  /** Cancels every request of this client (a diagnosis's deadline, a shutdown). */
  readonly signal?: AbortSignal;
}

export interface KubeHttpStats {
  requests: number;
  bytes: number;
}

export class KubeHttp {
  readonly stats: KubeHttpStats = { requests: 0, bytes: 0 };
  /** The API server's clock (`Date` header of the latest response): "now" for the diagnosis. */
  serverDate: Date | undefined;
  private readonly timeoutMs: number;
  private readonly pageSize: number;
  private readonly signal: AbortSignal | undefined;
  private readonly limit: <T>(task: () => Promise<T>) => Promise<T>;
  private readonly server: string;

  constructor(
    private readonly kc: KubeConfig,
    options: KubeHttpOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.pageSize = options.pageSize ?? 500;
    this.signal = options.signal;
    this.limit = pLimit(options.concurrency ?? 8);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
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
    try {
      return { ok: true, value: JSON.parse(text.value) as T };
    } catch {
      return { ok: false, status: 0, reason: `invalid JSON from ${describe(call)}` };
    }
  }

  /** Every item of a list, following `continue` tokens; a 410 (expired token) restarts once. */
  async listAll(
    path: string,
    query: Record<string, string | undefined>,
    call: ApiCall,
  ): Promise<Fetched<{ items: unknown[]; apiVersion?: string; kind?: string }>> {
    const items: unknown[] = [];
    let token: string | undefined;
    let restarted = false;
    let first: { apiVersion?: string; kind?: string } = {};
    do {
      const page = await this.getJson<{
        apiVersion?: string;
        kind?: string;
        items?: unknown[];
        metadata?: { continue?: string };
      }>(path, { ...query, limit: this.pageSize, continue: token }, call);
      if (!page.ok) {
        if (page.status === 410 && !restarted) {
          restarted = true;
          items.length = 0;
          token = undefined;
          continue;
        }
        return page;
      }
      if (!token) first = { apiVersion: page.value.apiVersion, kind: page.value.kind };
      items.push(...(page.value.items ?? []));
      token = page.value.metadata?.continue || undefined;
    } while (token);
    return { ok: true, value: { items, ...first } };
  }

  /** Runs a command in a container (read-only captures) and returns its output. */
  async exec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    call: ApiCall,
  ): Promise<Fetched<string>> {
    return this.limit(async () => {
      this.stats.requests++;
      let stdout = '';
      let stderr = '';
      const sink = (append: (s: string) => void) =>
        new Writable({
          write(chunk, _enc, done) {
            append(String(chunk));
            done();
          },
        });
      const out = sink((s) => {
        stdout += s;
      });
      const err = sink((s) => {
        stderr += s;
      });
      try {
        const status = await withTimeout(
          new Promise<{ status?: string; message?: string }>((resolve, reject) => {
            new Exec(this.kc)
              .exec(namespace, pod, container, command, out, err, null, false, (s) =>
                resolve(s as { status?: string; message?: string }),
              )
              .then((ws) => {
                ws.on('close', () => resolve({ status: 'Closed' }));
                ws.on('error', reject);
              }, reject);
          }),
          this.timeoutMs,
        );
        this.stats.bytes += stdout.length + stderr.length;
        if (status.status === 'Success' || (status.status === 'Closed' && stderr === ''))
          return { ok: true, value: stdout };
        return {
          ok: false,
          status: 0,
          reason: `exec ${command.join(' ')} in ${namespace}/${pod} failed: ${(stderr || status.message || 'no status').trim().split('\n')[0]}`,
        };
      } catch (error) {
        const status = statusOf(error);
        const why = status >= 400 ? refusal(status, '', call) : explain(error, call);
        return { ok: false, status, reason: `exec ${command.join(' ')} in ${namespace}/${pod}: ${why}` };
      }
    });
  }

  /**
   * A write: the debug pod's lifecycle, and approved remediation actions. `contentType`
   * picks the patch flavour (strategic merge for DaemonSets, merge for Nodes).
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
      const ctx = new RequestContext(url.toString(), HttpMethod[method]);
      await this.kc.applySecurityAuthentication(ctx);
      const headers = ctx.getHeaders();
      if (body !== undefined) headers['content-type'] = contentType;
      // Pairs, so a header may repeat (Impersonate-Group once per group).
      const merged: [string, string][] = Object.entries(headers as Record<string, string>);
      for (const [k, v] of Object.entries(extraHeaders))
        for (const value of typeof v === 'string' ? [v] : v) merged.push([k, value]);
      const response = await fetch(url, {
        method,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        headers: merged,
        dispatcher: ctx.getDispatcher(),
        signal: this.signal
          ? AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.signal])
          : AbortSignal.timeout(this.timeoutMs),
      });
      const text = await response.text();
      this.stats.bytes += text.length;
      const date = response.headers.get('date');
      if (date && !Number.isNaN(Date.parse(date))) this.serverDate = new Date(date);
      if (response.ok) return { ok: true, value: text };
      return { ok: false, status: response.status, reason: refusal(response.status, text, call) };
    } catch (error) {
      return { ok: false, status: 0, reason: explain(error, call) };
    }
  }
}

export function describe(call: ApiCall): string {
  return `${call.verb} ${call.resource}${call.namespace ? ` in ${call.namespace}` : ''}`;
}

function refusal(status: number, body: string, call: ApiCall): string {
  let message = '';
  try {
    message = (JSON.parse(body) as { message?: string }).message ?? '';
  } catch {
    message = body.slice(0, 200);
  }
  switch (status) {
    case 403:
      return `forbidden: ${describe(call)} (RBAC: grant "${call.verb}" on ${call.resource})`;
    case 401:
      return `unauthorized: the API server rejected kproxy's credentials (${describe(call)})`;
    case 404:
      return `not found: ${describe(call)}`;
    case 400:
      return `bad request: ${describe(call)}: ${message}`;
    default:
      return `API server answered ${status} to ${describe(call)}${message ? `: ${message}` : ''}`;
  }
}

function explain(error: unknown, call: ApiCall): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.message === 'timeout')
    return `timeout: ${describe(call)} took longer than the limit`;
  const code = e?.cause?.code ?? (e as { code?: string })?.code;
  return `connection failed (${code ?? e?.cause?.message ?? e?.message ?? 'unknown error'}): ${describe(call)}`;
}

function statusOf(error: unknown): number {
  const m = /Unexpected server response: (\d+)/.exec((error as Error)?.message ?? '');
  return m ? Number(m[1]) : 0;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
