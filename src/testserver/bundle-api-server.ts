/**
 * A Kubernetes API server on loopback that serves an incident bundle: the resources a
 * diagnosis reads, with label/field selectors and limit/continue; pod logs with
 * tailLines/previous; kube-proxy healthz/metrics/proxyMode through the node proxy
 * subresource; `/version`; pod exec over the Kubernetes WebSocket protocol, and a
 * debug pod's create/exec/delete, answered from the bundle's node captures.
 *
 * What the bundle did not collect answers 403, so a live diagnosis reports `unknown`
 * exactly where the bundle's does. Every request is recorded (tests count API calls);
 * faults (403, 500, timeouts, dropped connections) can be injected per request.
 * `kproxy serve-bundle` exposes it for demos.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { BundleDir } from '../cluster/bundle/files.js';
import { debugPodCaptures, debugPodLabels } from '../cluster/live/node-captures.js';
import { matchesFields, matchesLabels } from './selectors.js';

type Json = Record<string, unknown>;

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** The Authorization header as received (tests check the credentials the client sent). */
  readonly authorization: string | undefined;
  status: number;
  bytes: number;
}

/** A write the server accepted (tests assert exactly which writes an action made). */
export interface Mutation {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: unknown;
  /** Impersonate-User / Impersonate-Group headers, when the client sent them. */
  readonly impersonate?: { user: string; groups: string[] };
}

export interface Fault {
  /** Matched against `METHOD /decoded/path`. */
  readonly match: RegExp;
  /** `delay` answers normally after `ms`. */
  readonly respond: 403 | 429 | 500 | 'timeout' | 'drop' | 'delay';
  readonly ms?: number;
}

export interface BundleApiServerOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly faults?: readonly Fault[];
  /** A bundle to serve from the first accepted remediation write on: the cluster after the fix. */
  readonly afterWrite?: string;
}

const resourceGroups: Readonly<Record<string, { group: string; kind: string }>> = {
  pods: { group: 'v1', kind: 'Pod' },
  services: { group: 'v1', kind: 'Service' },
  endpoints: { group: 'v1', kind: 'Endpoints' },
  events: { group: 'v1', kind: 'Event' },
  configmaps: { group: 'v1', kind: 'ConfigMap' },
  daemonsets: { group: 'apps/v1', kind: 'DaemonSet' },
  deployments: { group: 'apps/v1', kind: 'Deployment' },
  statefulsets: { group: 'apps/v1', kind: 'StatefulSet' },
  endpointslices: { group: 'discovery.k8s.io/v1', kind: 'EndpointSlice' },
  networkpolicies: { group: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
};

const proxyFiles: Readonly<Record<string, { file: string; type: string }>> = {
  '10256/healthz': { file: 'healthz.json', type: 'application/json' },
  '10249/metrics': { file: 'metrics.txt', type: 'text/plain; version=0.0.4; charset=utf-8' },
  '10249/proxyMode': { file: 'proxy-mode.txt', type: 'text/plain; charset=utf-8' },
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export class BundleApiServer {
  readonly requests: RecordedRequest[] = [];
  /** Remediation writes accepted (PATCH/DELETE/eviction), in order. */
  readonly mutations: Mutation[] = [];
  faults: Fault[];
  private files: BundleDir;
  private readonly cache = new Map<string, Promise<unknown>>();
  private readonly debugPods = new Map<string, Json>();
  private readonly server: Server;
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false),
  });
  private readonly sockets = new Set<Socket>();
  private clock: Date | undefined;

  constructor(
    bundleDir: string,
    private readonly options: BundleApiServerOptions = {},
  ) {
    this.files = new BundleDir(bundleDir);
    this.faults = [...(options.faults ?? [])];
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('upgrade', (req, socket, head) => void this.upgrade(req, socket as Socket, head));
  }

  async start(): Promise<string> {
    await this.setClock();
    await new Promise<void>((resolve) =>
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', resolve),
    );
    return this.url;
  }

  private recordMutation(mutation: Mutation): void {
    this.mutations.push(mutation);
    if (this.options.afterWrite && this.mutations.length === 1) {
      this.files = new BundleDir(this.options.afterWrite);
      this.cache.clear();
      void this.setClock();
    }
  }

  private async setClock(): Promise<void> {
    const manifest = await this.files.readJson('bundle.json');
    const collectedAt =
      (manifest.state === 'collected'
        ? (manifest.value as { collectedAt?: string }).collectedAt
        : undefined) ?? '';
    // The served cluster's clock is the bundle's: a live diagnosis judges recency as the bundle's would.
    this.clock = Number.isNaN(Date.parse(collectedAt)) ? undefined : new Date(collectedAt);
  }

  get url(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address}:${port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.wss.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A kubeconfig pointing at this server (context `bundle`). */
  kubeconfig(context = 'bundle'): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      // client-node refuses plain http unless TLS verification is explicitly off (loopback only).
      `clusters: [{ name: ${context}, cluster: { server: "${this.url}", insecure-skip-tls-verify: true } }]`,
      `users: [{ name: kproxy, user: { token: test-token } }]`,
      `contexts: [{ name: ${context}, context: { cluster: ${context}, user: kproxy } }]`,
      `current-context: ${context}`,
      '',
    ].join('\n');
  }

  /** Requests whose decoded path matches. */
  count(pattern: RegExp): number {
    return this.requests.filter((r) => pattern.test(`${r.method} ${r.path}`)).length;
  }

  private record(req: IncomingMessage): { entry: RecordedRequest; path: string; query: URLSearchParams } {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname);
    const command = url.searchParams.getAll('command');
    const entry: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      authorization: req.headers.authorization,
      // exec repeats `command` once per argument: record the whole command line.
      query: {
        ...Object.fromEntries(url.searchParams),
        ...(command.length > 0 ? { command: command.join(' ') } : {}),
      },
      status: 0,
      bytes: 0,
    };
    this.requests.push(entry);
    return { entry, path, query: url.searchParams };
  }

  private fault(method: string, path: string): Fault | undefined {
    return this.faults.find((f) => f.match.test(`${method} ${path}`));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { entry, path, query } = this.record(req);
    const send = (status: number, body: string, type = 'application/json') => {
      entry.status = status;
      entry.bytes = Buffer.byteLength(body);
      res.writeHead(status, {
        'content-type': type,
        ...(this.clock ? { date: this.clock.toUTCString() } : {}),
      });
      res.end(body);
    };
    let fault = this.fault(entry.method, path);
    if (fault?.respond === 'delay') {
      await new Promise((r) => setTimeout(r, fault?.ms ?? 1000));
      fault = undefined;
    }
    if (fault?.respond === 'drop') {
      entry.status = -1;
      req.socket.destroy();
      return;
    }
    if (fault?.respond === 'timeout') {
      entry.status = -2;
      return;
    }
    try {
      if (fault?.respond === 429) {
        throw new HttpError(
          429,
          'TooManyRequests',
          "Cannot evict pod as it would violate the pod's disruption budget.",
        );
      }
      if (fault)
        throw new HttpError(
          fault.respond as number,
          fault.respond === 403 ? 'Forbidden' : 'InternalError',
          fault.respond === 403 ? `${path} is forbidden (injected)` : 'injected server error',
        );
      const body =
        entry.method === 'PATCH'
          ? await this.patch(path, await readBody(req), req.headers['content-type'], impersonationOf(req))
          : entry.method === 'GET'
            ? await this.get(path, query)
            : entry.method === 'POST'
              ? await this.post(path, await readBody(req))
              : entry.method === 'DELETE'
                ? await this.delete(path, impersonationOf(req))
                : undefined;
      if (body === undefined)
        throw new HttpError(405, 'MethodNotAllowed', `${entry.method} is not supported here`);
      if (typeof body === 'string') send(200, body, 'text/plain; charset=utf-8');
      else if ('raw' in body) send(200, String(body.raw), String(body.type));
      else send(entry.method === 'POST' ? 201 : 200, JSON.stringify(body));
    } catch (error) {
      const e = error instanceof HttpError ? error : new HttpError(500, 'InternalError', String(error));
      send(
        e.status,
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: e.message,
          reason: e.reason,
          code: e.status,
        }),
      );
    }
  }

  private async get(path: string, query: URLSearchParams): Promise<Json | string | undefined> {
    if (path === '/version') return (await this.json('version.json', 'get', 'version')) as Json;
    let m = /^\/api\/v1\/nodes\/([^/:]+):(\d+)\/proxy\/(.+)$/.exec(path);
    if (m) return this.nodeProxy(m[1] as string, m[2] as string, m[3] as string);
    m = /^\/api\/v1\/nodes(?:\/([^/]+))?$/.exec(path);
    if (m)
      return m[1]
        ? this.getOne('nodes.json', 'nodes', m[1], undefined)
        : this.list('nodes.json', 'Node', 'v1', 'nodes', undefined, query);
    if (path === '/api/v1/pods') return this.allNamespacePods(query);
    // Namespaces are cluster-scoped (k8s.io/kubernetes pkg/registry/core/namespace): the bundle's namespaces.json.
    m = /^\/api\/v1\/namespaces(?:\/([^/]+))?$/.exec(path);
    if (m)
      return m[1]
        ? this.getOne('namespaces.json', 'namespaces', m[1], undefined)
        : this.list('namespaces.json', 'Namespace', 'v1', 'namespaces', undefined, query);
    m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(path);
    if (m) return this.log(m[1] as string, m[2] as string, query);
    m = /^\/(?:api\/v1|apis\/([^/]+\/[^/]+))\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (m) {
      const [, , ns, resource, name] = m as unknown as [string, string, string, string, string | undefined];
      const spec = resourceGroups[resource];
      if (!spec)
        throw new HttpError(
          404,
          'NotFound',
          `the server could not find the requested resource (${resource})`,
        );
      if (name && resource === 'pods' && this.debugPods.has(`${ns}/${name}`))
        return this.debugPods.get(`${ns}/${name}`);
      const file = `namespaces/${ns}/${resource}.json`;
      return name
        ? this.getOne(file, resource, name, ns)
        : this.list(file, spec.kind, spec.group, resource, ns, query);
    }
    throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${path})`);
  }

  /** Pods across the bundle's namespaces (drain lists a node's pods this way). */
  private async allNamespacePods(query: URLSearchParams): Promise<Json> {
    const items: Json[] = [];
    for (const ns of await this.files.listDirs('namespaces')) {
      const doc = (await this.files.readJson(`namespaces/${ns}/pods.json`)) as {
        state: string;
        value?: { items?: Json[] };
      };
      if (doc.state === 'collected') items.push(...(doc.value?.items ?? []));
    }
    const selected = items.filter(
      (i) => matchesLabels(i, query.get('labelSelector')) && matchesFields(i, query.get('fieldSelector')),
    );
    return {
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '1' },
      items: selected.map(({ kind: _k, apiVersion: _a, ...rest }) => rest),
    };
  }

  private async post(path: string, body: string): Promise<Json> {
    const eviction = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(path);
    if (eviction) {
      const pod = await this.getOne(
        `namespaces/${eviction[1]}/pods.json`,
        'pods',
        eviction[2] as string,
        eviction[1],
      );
      this.recordMutation({
        method: 'POST',
        path,
        contentType: 'application/json',
        body: JSON.parse(body) as unknown,
      });
      return {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Success',
        details: { name: (pod.metadata as { name: string }).name },
      };
    }
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path);
    if (!m)
      throw new HttpError(
        403,
        'Forbidden',
        `create ${path} is forbidden: the bundle server only creates kproxy capture pods`,
      );
    const pod = JSON.parse(body) as {
      metadata?: { name?: string; labels?: Record<string, string> };
      spec?: { nodeName?: string };
    };
    const labels = pod.metadata?.labels ?? {};
    if (
      !Object.entries(debugPodLabels).every(([k, v]) => labels[k] === v) ||
      !pod.metadata?.name ||
      !pod.spec?.nodeName
    ) {
      throw new HttpError(
        403,
        'Forbidden',
        'only kproxy capture pods (labelled, pinned to a node) may be created',
      );
    }
    const created = {
      ...pod,
      metadata: { ...pod.metadata, namespace: m[1], uid: `debug-${pod.metadata.name}` },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    };
    this.debugPods.set(`${m[1]}/${pod.metadata.name}`, created);
    return created;
  }

  private async delete(path: string, impersonate?: Mutation['impersonate']): Promise<Json> {
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path);
    const key = m ? `${m[1]}/${m[2]}` : '';
    const pod = this.debugPods.get(key);
    if (pod) {
      this.debugPods.delete(key);
      return pod;
    }
    if (!m) throw new HttpError(403, 'Forbidden', `delete ${path} is forbidden`);
    // A bundle pod (remediation): it must exist; the write is recorded, the bundle unchanged.
    const existing = await this.getOne(`namespaces/${m[1]}/pods.json`, 'pods', m[2] as string, m[1]);
    this.recordMutation({
      method: 'DELETE',
      path,
      contentType: undefined,
      body: undefined,
      ...(impersonate ? { impersonate } : {}),
    });
    return existing;
  }

  /** PATCH of a DaemonSet, Node or ConfigMap (remediation): recorded, answered with the object. */
  private async patch(
    path: string,
    body: string,
    contentType: string | undefined,
    impersonate?: Mutation['impersonate'],
  ): Promise<Json> {
    const ds = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/daemonsets\/([^/]+)$/.exec(path);
    const node = /^\/api\/v1\/nodes\/([^/:]+)$/.exec(path);
    const cm = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps\/([^/]+)$/.exec(path);
    const existing = ds
      ? await this.getOne(`namespaces/${ds[1]}/daemonsets.json`, 'daemonsets', ds[2] as string, ds[1])
      : node
        ? await this.getOne('nodes.json', 'nodes', node[1] as string, undefined)
        : cm
          ? await this.getOne(`namespaces/${cm[1]}/configmaps.json`, 'configmaps', cm[2] as string, cm[1])
          : undefined;
    if (!existing) throw new HttpError(403, 'Forbidden', `patch ${path} is forbidden`);
    this.recordMutation({
      method: 'PATCH',
      path,
      contentType,
      body: JSON.parse(body) as unknown,
      ...(impersonate ? { impersonate } : {}),
    });
    return existing;
  }

  /** Debug pods still alive (tests assert none is left behind). */
  get liveDebugPods(): string[] {
    return [...this.debugPods.keys()];
  }

  private json(rel: string, verb: string, resource: string, namespace?: string): Promise<unknown> {
    let cached = this.cache.get(rel);
    if (!cached) {
      cached = this.files.readJson(rel).then((c) => (c.state === 'collected' ? c.value : undefined));
      this.cache.set(rel, cached);
    }
    return cached.then((value) => {
      if (value === undefined) throw forbidden(verb, resource, namespace);
      return value;
    });
  }

  private async items(rel: string, resource: string, namespace: string | undefined): Promise<Json[]> {
    const doc = (await this.json(rel, 'list', resource, namespace)) as { items?: Json[] };
    return doc.items ?? [];
  }

  private async list(
    rel: string,
    kind: string,
    apiVersion: string,
    resource: string,
    namespace: string | undefined,
    query: URLSearchParams,
  ): Promise<Json> {
    const all = (await this.items(rel, resource, namespace)).filter(
      (i) => matchesLabels(i, query.get('labelSelector')) && matchesFields(i, query.get('fieldSelector')),
    );
    const limit = Number(query.get('limit') ?? 0);
    const offset = query.get('continue')
      ? Number(Buffer.from(query.get('continue') as string, 'base64url').toString())
      : 0;
    const page = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
    const next =
      limit > 0 && offset + limit < all.length
        ? Buffer.from(String(offset + limit)).toString('base64url')
        : undefined;
    return {
      kind: `${kind}List`,
      apiVersion,
      metadata: {
        resourceVersion: '1',
        ...(next ? { continue: next, remainingItemCount: all.length - offset - limit } : {}),
      },
      items: page.map(({ kind: _k, apiVersion: _a, ...rest }) => rest),
    };
  }

  private async getOne(
    rel: string,
    resource: string,
    name: string,
    namespace: string | undefined,
  ): Promise<Json> {
    const item = (await this.items(rel, resource, namespace)).find(
      (i) => (i.metadata as { name?: string } | undefined)?.name === name,
    );
    if (!item) throw new HttpError(404, 'NotFound', `${resource} "${name}" not found`);
    return item;
  }

  private async nodeProxy(node: string, port: string, path: string): Promise<Json> {
    const spec = proxyFiles[`${port}/${path}`];
    if (!spec) throw new HttpError(404, 'NotFound', `no proxy route ${port}/${path}`);
    const text = await this.files.readText(`nodes/${node}/${spec.file}`);
    if (text.state === 'missing') throw forbidden('get', 'nodes/proxy', undefined);
    return { raw: text.value, type: spec.type };
  }

  private async log(ns: string, pod: string, query: URLSearchParams): Promise<string> {
    await this.getOne(`namespaces/${ns}/pods.json`, 'pods', pod, ns);
    const container = query.get('container') ?? 'kube-proxy';
    const suffix = query.get('previous') === 'true' ? '.previous.log' : '.log';
    const text = await this.files.readText(`logs/${ns}/${pod}/${container}${suffix}`);
    if (text.state === 'missing') {
      if (suffix === '.previous.log')
        throw new HttpError(
          400,
          'BadRequest',
          `previous terminated container "${container}" in pod "${pod}" not found`,
        );
      throw forbidden('get', 'pods/log', ns);
    }
    const tail = Number(query.get('tailLines') ?? 0);
    if (!tail) return text.value;
    const lines = text.value.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return `${lines.slice(-tail).join('\n')}\n`;
  }

  private async upgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const { entry, path, query } = this.record(req);
    const fault = this.fault('EXEC', path);
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(path);
    if (fault?.respond === 'drop' || fault?.respond === 'timeout') {
      entry.status = -1;
      if (fault.respond === 'drop') socket.destroy();
      return;
    }
    if (!m || fault) {
      entry.status = fault ? (fault.respond as number) : 404;
      socket.end(`HTTP/1.1 ${entry.status} ${entry.status === 403 ? 'Forbidden' : 'Error'}\r\n\r\n`);
      return;
    }
    const [, ns, pod] = m as unknown as [string, string, string];
    let node: string | undefined;
    try {
      node = await this.podNode(ns, pod);
    } catch (error) {
      entry.status = error instanceof HttpError ? error.status : 500;
      socket.end(`HTTP/1.1 ${entry.status} Error\r\n\r\n`);
      return;
    }
    entry.status = 101;
    this.wss.handleUpgrade(
      req,
      socket,
      head,
      (ws) => void this.exec(ws, node as string, query.getAll('command'), ns, entry),
    );
  }

  private async podNode(ns: string, pod: string): Promise<string> {
    const debug = this.debugPods.get(`${ns}/${pod}`) as { spec?: { nodeName?: string } } | undefined;
    if (debug?.spec?.nodeName) return debug.spec.nodeName;
    const item = (await this.getOne(`namespaces/${ns}/pods.json`, 'pods', pod, ns)) as {
      spec?: { nodeName?: string };
    };
    if (!item.spec?.nodeName) throw new HttpError(400, 'BadRequest', 'pod is not scheduled');
    return item.spec.nodeName;
  }

  private async exec(
    ws: WebSocket,
    node: string,
    command: string[],
    _ns: string,
    entry: RecordedRequest,
  ): Promise<void> {
    const output = await this.commandOutput(node, command);
    const frame = (channel: number, data: string | Buffer) =>
      Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]);
    if (output.ok) {
      const data = Buffer.from(output.stdout);
      for (let i = 0; i < data.length; i += 64 * 1024) ws.send(frame(1, data.subarray(i, i + 64 * 1024)));
      entry.bytes = data.length;
      ws.send(frame(3, JSON.stringify({ metadata: {}, status: 'Success' })));
    } else {
      ws.send(frame(2, `${output.stderr}\n`));
      ws.send(
        frame(
          3,
          JSON.stringify({
            metadata: {},
            status: 'Failure',
            message: `command terminated with non-zero exit code: ${output.stderr}`,
            reason: 'NonZeroExitCode',
            details: { causes: [{ reason: 'ExitCode', message: String(output.code) }] },
          }),
        ),
      );
    }
    ws.close();
  }

  /** Answers a read-only capture command from the node's files in the bundle. */
  private async commandOutput(
    node: string,
    command: string[],
  ): Promise<{ ok: true; stdout: string } | { ok: false; stderr: string; code: number }> {
    const line = command.join(' ');
    const fromFile = async (file: string, transform: (t: string) => string = (t) => t) => {
      const text = await this.files.readText(`nodes/${node}/${file}`);
      return text.state === 'collected'
        ? { ok: true as const, stdout: transform(text.value) }
        : { ok: false as const, stderr: `${command[0]}: not collected in this bundle (${file})`, code: 1 };
    };
    const table = /^(ip6?tables-save) -t (nat|filter)$/.exec(line);
    if (table) return fromFile(`${table[1]}.txt`, (t) => iptablesTable(t, table[2] as string));
    const nft = /^nft list table (ip6?) kube-proxy$/.exec(line);
    if (nft) {
      const text = await this.files.readText(`nodes/${node}/nft.txt`);
      if (text.state === 'missing')
        return { ok: false, stderr: 'nft: not collected in this bundle (nft.txt)', code: 1 };
      const table = nftTable(text.value, nft[1] as string);
      // What nft 1.0.6 prints for an absent table (checked in a fresh network namespace).
      return table === undefined
        ? {
            ok: false,
            stderr: `Error: No such file or directory\n${line.slice(4)}\n${' '.repeat(line.length - 4 - 'kube-proxy'.length)}^^^^^^^^^^\n`,
            code: 1,
          }
        : { ok: true, stdout: table };
    }
    const capture = Object.entries(debugPodCaptures).find(([, cmd]) => cmd.join(' ') === line);
    if (capture) return fromFile(capture[0]);
    return { ok: false, stderr: `${command[0] ?? ''}: command not allowed by the bundle server`, code: 126 };
  }
}

function forbidden(verb: string, resource: string, namespace: string | undefined): HttpError {
  const [plural, group = ''] = resource.split('.', 2) as [string, string?];
  const where = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
  return new HttpError(
    403,
    'Forbidden',
    `${plural} is forbidden: User "system:serviceaccount:kproxy:kproxy" cannot ${verb} resource "${plural}" in API group "${group}" ${where}`,
  );
}

/** One table of `nft list ruleset` (`table ip kube-proxy { … }`), as `nft list table` prints it. */
function nftTable(text: string, family: string): string | undefined {
  const lines = text.split('\n');
  const start = lines.indexOf(`table ${family} kube-proxy {`);
  if (start < 0) return undefined;
  const end = lines.indexOf('}', start);
  return `${lines.slice(start, end < 0 ? lines.length : end + 1).join('\n')}\n`;
}

/** One table of an iptables-save dump, with its header and footer comments, as `-t TABLE` prints it. */
function iptablesTable(text: string, table: string): string {
  const lines = text.split('\n');
  const start = lines.indexOf(`*${table}`);
  if (start < 0) return '';
  let end = lines.indexOf('COMMIT', start);
  if (end < 0) end = lines.length - 1;
  const from = start > 0 && lines[start - 1]?.startsWith('# Generated') ? start - 1 : start;
  const to = lines[end + 1]?.startsWith('# Completed') ? end + 1 : end;
  return `${lines.slice(from, to + 1).join('\n')}\n`;
}

function impersonationOf(req: IncomingMessage): Mutation['impersonate'] {
  const user = req.headers['impersonate-user'];
  if (typeof user !== 'string') return undefined;
  const raw = req.headers['impersonate-group'];
  const groups = (Array.isArray(raw) ? raw : raw ? [raw] : []).flatMap((g) =>
    g.split(',').map((x) => x.trim()),
  );
  return { user, groups };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
