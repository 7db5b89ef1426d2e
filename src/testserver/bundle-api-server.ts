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
import type { WebSocket } from 'ws';
import { BundleStore } from './bundle-store.js';
import { type Mutation, Writes } from './writes.js';

export type { Mutation } from './writes.js';

import { crdGroups, discovery } from './discovery.js';
import { checkEksToken, type EksTokenCheck } from './eks-auth.js';
import {
  captureOutput,
  execServer,
  offersSupportedProtocol,
  refuseUpgrade,
  streamResult,
} from './exec-stream.js';
import { kubeProxyEndpoint } from './kube-proxy-routes.js';
import { probeOutput } from './probe-exec.js';
import { allows, type Grant } from './rbac.js';
import { forbidden, forbiddenResource, HttpError, requestAttributes } from './status.js';
import { asTable, wantsTable } from './tables.js';

type Json = Record<string, unknown>;

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** The Authorization header as received (tests check the credentials the client sent). */
  readonly authorization: string | undefined;
  status: number;
  bytes: number;
  /** Refused by the RBAC evaluation of `rbac` (not a file the bundle lacks). */
  rbacDenied?: boolean;
}

export interface Fault {
  /** Matched against `METHOD /decoded/path` (`EXEC /…/exec` for an exec upgrade). */
  readonly match: RegExp;
  /**
   * `delay` answers normally after `ms`; `truncate` (exec) cuts the output stream short
   * without the exit status. A 403 without `message` is the RBAC denial of the request.
   */
  readonly respond: 403 | 404 | 410 | 429 | 500 | 503 | 'timeout' | 'drop' | 'delay' | 'truncate';
  readonly ms?: number;
  /** The Status `message` (and `reason`) to answer with instead of the default. */
  readonly message?: string;
  readonly reason?: string;
  /**
   * A 429 on an eviction: the PodDisruptionBudget that refuses it, named in the Status'
   * `DisruptionBudget` cause as the apiserver does. @defaultValue web-api, needing 2 and having 2
   */
  readonly pdb?: { readonly name: string; readonly desiredHealthy: number; readonly currentHealthy: number };
  /** How many matching requests it applies to. @defaultValue every one */
  times?: number;
}

export interface BundleApiServerOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly faults?: readonly Fault[];
  /** A bundle to serve from the first accepted remediation write on: the cluster after the fix. */
  readonly afterWrite?: string;
  /**
   * The roles bound to the served user, evaluated like the RBAC authorizer (rbac.ts);
   * unset grants everything (and what the bundle did not collect answers 403).
   */
  readonly rbac?: readonly Grant[];
  /**
   * With `rbac`: the roles bound to users and groups a request may impersonate, by user or
   * group name (RoleBindings/ClusterRoleBindings whose subject is that User or Group).
   */
  readonly impersonatedRbac?: Readonly<Record<string, readonly Grant[]>>;
  /**
   * Authorize an exec upgrade as `create` as well as `get` (Kubernetes 1.35+,
   * AuthorizePodWebsocketUpgradeCreatePermission). @defaultValue true
   */
  readonly websocketCreateCheck?: boolean;
  /** Authenticate bearer tokens as EKS does (aws-iam-authenticator): expired ones get 401. */
  readonly eksTokens?: EksTokenCheck;
  /** How long an evicted pod stays terminating before it is gone. @defaultValue 0 */
  readonly podTerminationMs?: number | 'never';
  /** The status capture pods get (`Pending` with an ImagePullBackOff, say). @defaultValue Running */
  readonly debugPodStatus?: Json;
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
  ingresses: { group: 'networking.k8s.io/v1', kind: 'Ingress' },
  httproutes: { group: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' },
  targetgroupbindings: { group: 'elbv2.k8s.aws/v1beta1', kind: 'TargetGroupBinding' },
};

export class BundleApiServer {
  readonly requests: RecordedRequest[] = [];
  /** Remediation writes accepted (PATCH/DELETE/eviction), in order. */
  readonly mutations: Mutation[] = [];
  faults: Fault[];
  private readonly store: BundleStore;
  private readonly server: Server;
  private readonly wss = execServer();
  private readonly sockets = new Set<Socket>();
  /** TCP connections accepted (tests check that a client reuses its connections). */
  connections = 0;
  /** Exec upgrade connections still open (tests check a timed-out exec closes its socket). */
  openUpgrades = 0;
  private readonly writes: Writes;
  /**
   * How many of the next `continue` tokens have expired: answered 410 Expired, as the
   * apiserver does once etcd compacted past the token's revision (storage/etcd3/store.go
   * `handleCompactedErrorForPaging`, apimachinery `errors.NewResourceExpired`).
   */
  set expireContinueTokens(n: number) {
    this.store.expireContinueTokens = n;
  }
  get expireContinueTokens(): number {
    return this.store.expireContinueTokens;
  }
  /** Capture pods as created, and the DeleteOptions of their deletion (tests check the hardening). */
  get capturePods(): Writes['capturePods'] {
    return this.writes.capturePods;
  }

  /** A capture pod as the server holds it (tests also seed leftovers of a crashed kproxy). */
  seedDebugPod(pod: Json, namespace: string, status?: Json, creationTimestamp = new Date()): Json {
    return this.store.seedDebugPod(pod, namespace, status, creationTimestamp);
  }

  /** Debug pods still alive (tests assert none is left behind). */
  get liveDebugPods(): string[] {
    return this.store.liveDebugPods;
  }

  /** Called with the subprotocol of each exec stream. */
  onExecProtocol: ((protocol: string) => void) | undefined;
  private clock: Date | undefined;

  constructor(
    bundleDir: string,
    private readonly options: BundleApiServerOptions = {},
  ) {
    this.store = new BundleStore(bundleDir, options.podTerminationMs);
    this.writes = new Writes(this.store, (m) => this.recordMutation(m), options.debugPodStatus);
    this.faults = [...(options.faults ?? [])];
    this.server = createServer((req, res) => void this.handle(req, res));
    // Idle keep-alive connections stay open as on the apiserver (its http.Server IdleTimeout is
    // 90 s: k8s.io/apiserver pkg/server/secure_serving.go), so clients can reuse them.
    this.server.keepAliveTimeout = 90_000;
    this.server.on('connection', (socket) => {
      this.connections++;
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
      this.store.replace(this.options.afterWrite);
      void this.setClock();
    }
  }

  private async setClock(): Promise<void> {
    const manifest = await this.store.files.readJson('bundle.json');
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
    const fault = this.faults.find((f) => (f.times ?? 1) > 0 && f.match.test(`${method} ${path}`));
    if (fault?.times !== undefined) fault.times--;
    return fault;
  }

  /**
   * The RBAC decision for a request, when roles are configured. With `Impersonate-User`, as
   * the apiserver does (k8s.io/apiserver pkg/endpoints/filters/impersonation.go
   * WithImpersonation): the served user must be allowed to `impersonate` the user and each
   * group (by name), then the request is authorized as the impersonated user, whose roles
   * are those `impersonatedRbac` binds to that user or to one of its groups.
   */
  private authorize(
    entry: RecordedRequest,
    method: string,
    path: string,
    verb?: string,
    req?: IncomingMessage,
  ): void {
    const rbac = this.options.rbac;
    if (!rbac) return;
    const attrs = requestAttributes(method, path);
    const as = req ? impersonationOf(req) : undefined;
    const deny = (error: HttpError) => {
      entry.rbacDenied = true;
      return error;
    };
    if (as) {
      const targets = [
        { resource: 'users', name: as.user },
        ...as.groups.map((name) => ({ resource: 'groups', name })),
      ];
      for (const t of targets) {
        const impersonate = { verb: 'impersonate', group: '', path, ...t };
        if (!allows(rbac, impersonate)) throw deny(forbidden(impersonate));
      }
      const bound = this.options.impersonatedRbac ?? {};
      const grants = [as.user, ...as.groups].flatMap((subject) => bound[subject] ?? []);
      if (allows(grants, attrs, verb ?? attrs.verb)) return;
      throw deny(forbidden(attrs, verb, as.user));
    }
    if (allows(rbac, attrs, verb ?? attrs.verb)) return;
    throw deny(forbidden(attrs, verb));
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
      if (this.options.eksTokens) checkEksToken(req.headers.authorization, this.options.eksTokens);
      if (fault && fault.respond !== 'truncate') throw injected(fault, entry.method, path);
      this.authorize(entry, entry.method, path, undefined, req);
      const body =
        entry.method === 'PATCH'
          ? await this.writes.patch(
              path,
              await readBody(req),
              req.headers['content-type'],
              impersonationOf(req),
            )
          : entry.method === 'GET'
            ? await this.get(path, query)
            : entry.method === 'POST'
              ? await this.writes.post(path, await readBody(req))
              : entry.method === 'DELETE'
                ? await this.writes.delete(path, impersonationOf(req), await readBody(req))
                : undefined;
      if (body === undefined)
        throw new HttpError(405, 'MethodNotAllowed', `${entry.method} is not supported here`);
      if (typeof body === 'string') send(200, body, 'text/plain; charset=utf-8');
      else if ('raw' in body) send(Number(body.status ?? 200), String(body.raw), String(body.type));
      else {
        const table = wantsTable(req.headers.accept) ? asTable(body, this.clock ?? new Date()) : undefined;
        send(entry.method === 'POST' ? 201 : 200, JSON.stringify(table ?? body));
      }
    } catch (error) {
      const e = error instanceof HttpError ? error : new HttpError(500, 'InternalError', String(error));
      send(e.status, e.body());
    }
  }

  private async get(path: string, query: URLSearchParams): Promise<Json | string | undefined> {
    if (path === '/version') return (await this.store.json('version.json', 'get', 'version')) as Json;
    const installedGroups = await this.store.installedCrdGroups();
    const absentGroup = Object.values(crdGroups).find(
      (gv) => !installedGroups.has(gv) && (path === `/apis/${gv}` || path.startsWith(`/apis/${gv}/`)),
    );
    if (absentGroup) return notFoundHandler();
    const discovered = discovery(path, installedGroups);
    if (discovered !== undefined) return discovered;
    let m = /^\/api\/v1\/nodes\/([^/:]+):(\d+)\/proxy\/(.+)$/.exec(path);
    if (m) return this.proxy(m[1] as string, m[2] as string, m[3] as string, 'nodes/proxy');
    m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/:]+):(\d+)\/proxy\/(.+)$/.exec(path);
    if (m) {
      const [, ns, pod, port, rest] = m as unknown as [string, string, string, string, string];
      return this.proxy(await this.store.podNode(ns, pod), port, rest, 'pods/proxy', ns);
    }
    m = /^\/api\/v1\/nodes(?:\/([^/]+))?$/.exec(path);
    if (m)
      return m[1]
        ? this.store.getOne('nodes.json', 'nodes', m[1], undefined)
        : this.store.list('nodes.json', 'Node', 'v1', 'nodes', undefined, query);
    if (path === '/api/v1/pods') return this.store.allNamespacePods(query);
    if (path === '/api/v1/services') return this.store.allNamespaceServices(query);
    // IngressClasses are cluster-scoped (k8s.io/kubernetes pkg/registry/networking/ingressclass): ingressclasses.json.
    m = /^\/apis\/networking\.k8s\.io\/v1\/ingressclasses(?:\/([^/]+))?$/.exec(path);
    if (m)
      return m[1]
        ? this.store.getOne('ingressclasses.json', 'ingressclasses', m[1], undefined)
        : this.store.list(
            'ingressclasses.json',
            'IngressClass',
            'networking.k8s.io/v1',
            'ingressclasses',
            undefined,
            query,
          );
    // Namespaces are cluster-scoped (k8s.io/kubernetes pkg/registry/core/namespace): the bundle's namespaces.json.
    m = /^\/api\/v1\/namespaces(?:\/([^/]+))?$/.exec(path);
    if (m)
      return m[1]
        ? this.store.getOne('namespaces.json', 'namespaces', m[1], undefined)
        : this.store.list('namespaces.json', 'Namespace', 'v1', 'namespaces', undefined, query);
    m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(path);
    if (m) return this.store.log(m[1] as string, m[2] as string, query);
    m = /^\/(?:api\/v1|apis\/([^/]+\/[^/]+))\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (m) {
      const [, group, ns, resource, name] = m as unknown as [
        string,
        string | undefined,
        string,
        string,
        string | undefined,
      ];
      const spec = resourceGroups[resource];
      // A resource exists only under its own group/version, and a CRD's only once installed.
      const installed = await this.store.installedCrdGroups();
      const crd = crdGroups[resource];
      if (spec && (spec.group !== (group ?? 'v1') || (crd !== undefined && !installed.has(crd))))
        return notFoundHandler();
      if (!spec)
        throw new HttpError(
          404,
          'NotFound',
          `the server could not find the requested resource (${resource})`,
        );
      return this.store.readNamespaced(ns, resource, spec, name, query);
    }
    throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${path})`);
  }

  /** kube-proxy's endpoints through the node or pod proxy (kube-proxy pods run on the host network). */
  private async proxy(
    node: string,
    port: string,
    path: string,
    resource: string,
    ns?: string,
  ): Promise<Json> {
    const answer = await kubeProxyEndpoint(this.store, node, port, path);
    if (!answer) throw forbiddenResource('get', resource, ns);
    return { ...answer };
  }

  private async upgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const { entry, path, query } = this.record(req);
    this.openUpgrades++;
    socket.once('close', () => this.openUpgrades--);
    const fault = this.fault('EXEC', path);
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(path);
    if (fault?.respond === 'drop' || fault?.respond === 'timeout') {
      entry.status = -1;
      if (fault.respond === 'drop') socket.destroy();
      return;
    }
    try {
      if (!m)
        throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${path})`);
      if (fault && fault.respond !== 'truncate' && fault.respond !== 'delay')
        throw injected(fault, 'GET', path);
      this.authorize(entry, 'GET', path);
      if (this.options.websocketCreateCheck ?? true) this.authorize(entry, 'GET', path, 'create');
      if (!offersSupportedProtocol(req))
        throw new HttpError(
          400,
          'BadRequest',
          'no supported subprotocol (v5.channel.k8s.io, v4.channel.k8s.io)',
        );
      const [, ns, pod] = m as unknown as [string, string, string];
      const node = await this.store.podNode(ns, pod);
      if (fault?.respond === 'delay') {
        // Notice a client that gives up meanwhile (its FIN), as a real server's read would.
        socket.once('end', () => socket.destroy());
        socket.resume();
        await new Promise((r) => setTimeout(r, fault.ms ?? 1000));
        socket.pause();
      }
      if (socket.destroyed) return;
      entry.status = 101;
      const truncate = fault?.respond === 'truncate';
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.onExecProtocol?.(ws.protocol);
        void this.exec(ws, { node, ns, pod }, query.getAll('command'), entry, truncate);
      });
    } catch (error) {
      const e = error instanceof HttpError ? error : new HttpError(500, 'InternalError', String(error));
      entry.status = e.status;
      refuseUpgrade(socket, e);
    }
  }

  private async exec(
    ws: WebSocket,
    at: { node: string; ns: string; pod: string },
    command: string[],
    entry: RecordedRequest,
    truncate: boolean,
  ): Promise<void> {
    const files = this.store.files;
    const probe = await probeOutput(
      files,
      at.node,
      at.ns,
      this.store.debugPods.get(`${at.ns}/${at.pod}`),
      command,
    );
    entry.bytes = streamResult(ws, probe ?? (await captureOutput(files, at.node, command)), truncate);
  }
}

/**
 * What the apiserver answers for a path no handler serves (an API group that is not
 * installed, a resource under another group): the end of its delegation chain,
 * k8s.io/apiserver pkg/util/notfoundhandler `ServeHTTP`, calls net/http `NotFound` — a
 * plain-text `404 page not found`, not a `kind: Status` (clients then say "the server could
 * not find the requested resource").
 */
function notFoundHandler(): Json {
  return { raw: '404 page not found\n', status: 404, type: 'text/plain; charset=utf-8' };
}

/** The answer to an injected fault: its status, with the message the real server would give. */
function injected(fault: Fault, method: string, path: string): HttpError {
  const status = fault.respond as number;
  if (fault.message) return new HttpError(status, fault.reason ?? 'Forbidden', fault.message);
  if (status === 403) return forbidden(requestAttributes(method, path));
  if (status === 429 && path.endsWith('/eviction')) {
    // pkg/registry/core/pod/storage/eviction.go checkAndDecrement: NewTooManyRequests(…, 0)
    // (no retryAfterSeconds) with one DisruptionBudget cause naming the budget.
    const pdb = fault.pdb ?? { name: 'web-api', desiredHealthy: 2, currentHealthy: 2 };
    return new HttpError(
      429,
      'TooManyRequests',
      "Cannot evict pod as it would violate the pod's disruption budget.",
      {
        details: {
          causes: [
            {
              reason: 'DisruptionBudget',
              message: `The disruption budget ${pdb.name} needs ${pdb.desiredHealthy} healthy pods and has ${pdb.currentHealthy} currently`,
            },
          ],
        },
      },
    );
  }
  if (status === 429)
    return new HttpError(
      429,
      'TooManyRequests',
      "Cannot evict pod as it would violate the pod's disruption budget.",
    );
  if (status === 404)
    return new HttpError(404, 'NotFound', `the server could not find the requested resource`);
  return new HttpError(
    status,
    status === 503 ? 'ServiceUnavailable' : 'InternalError',
    'injected server error',
  );
}

function impersonationOf(req: IncomingMessage): Mutation['impersonate'] {
  const user = req.headers['impersonate-user'];
  if (typeof user !== 'string') return undefined;
  // One group per header line, commas included: apiserver endpoints/filters/impersonation.go
  // reads `req.Header[Impersonate-Group]`, the values of the separate lines, and never splits.
  return { user, groups: req.headersDistinct['impersonate-group'] ?? [] };
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
