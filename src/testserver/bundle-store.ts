/**
 * The served cluster's state: the bundle's documents (read once, cached), the capture pods
 * kproxy created, and the pods evicted since; lists with selectors and limit/continue as the
 * API server pages them (opaque continue tokens, 410 Expired once they are too old).
 */
import { BundleDir } from '../cluster/bundle/files.js';
import { controllerPodsFile, controllerServicesFile } from '../cluster/bundle/north-south.js';
import { crdGroups } from './discovery.js';
import { selectorPredicate } from './selectors.js';
import { forbiddenResource, HttpError } from './status.js';

type Json = Record<string, unknown>;
type ControllerResource = 'pods' | 'services';
const controllerFiles: Readonly<Record<ControllerResource, string>> = {
  pods: controllerPodsFile,
  services: controllerServicesFile,
};

export class BundleStore {
  files: BundleDir;
  readonly debugPods = new Map<string, Json>();
  readonly evictedAt = new Map<string, number>();
  /** See BundleApiServer.expireContinueTokens. */
  expireContinueTokens = 0;
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(
    dir: string,
    private readonly podTerminationMs: number | 'never' = 0,
  ) {
    this.files = new BundleDir(dir);
  }

  /** Serve another bundle from now on (the cluster after a fix). */
  replace(dir: string): void {
    this.files = new BundleDir(dir);
    this.cache.clear();
  }

  /** A namespaced resource, or its list (capture pods included with the bundle's pods). */
  async readNamespaced(
    ns: string,
    resource: string,
    spec: { group: string; kind: string },
    name: string | undefined,
    query: URLSearchParams,
  ): Promise<Json> {
    if (name && resource === 'pods' && this.debugPods.has(`${ns}/${name}`))
      return this.debugPods.get(`${ns}/${name}`) as Json;
    const file = `namespaces/${ns}/${resource}.json`;
    if (name) return this.getOne(file, resource, name, ns);
    const capturePods = [...this.debugPods.entries()]
      .filter(([k]) => k.startsWith(`${ns}/`))
      .map(([, p]) => p);
    return this.list(
      file,
      spec.kind,
      spec.group,
      resource,
      ns,
      query,
      resource === 'pods' ? capturePods : [],
    );
  }

  /** Pods across the bundle's namespaces (drain lists a node's pods this way). */
  allNamespacePods(query: URLSearchParams): Promise<Json> {
    return this.allNamespaces('pods', 'Pod', query);
  }

  /** Services across the bundle's namespaces (kproxy lists the ingress controllers' this way). */
  allNamespaceServices(query: URLSearchParams): Promise<Json> {
    return this.allNamespaces('services', 'Service', query);
  }

  private async allNamespaces(
    resource: ControllerResource,
    kind: string,
    query: URLSearchParams,
  ): Promise<Json> {
    const items: Json[] = [];
    for (const ns of await this.files.listDirs('namespaces')) {
      const doc = (await this.files.readJson(`namespaces/${ns}/${resource}.json`)) as {
        state: string;
        value?: { items?: Json[] };
      };
      if (doc.state === 'collected') items.push(...(doc.value?.items ?? []));
    }
    const known = new Set(items.map(objectKey));
    items.push(...(await this.controllerObjects(resource)).filter((p) => !known.has(objectKey(p))));
    const selected = (resource === 'pods' ? this.afterEvictions(items) : items).filter(
      selectorPredicate(query),
    );
    return {
      kind: `${kind}List`,
      apiVersion: 'v1',
      metadata: { resourceVersion: '1' },
      items: selected.map(({ kind: _k, apiVersion: _a, ...rest }) => rest),
    };
  }

  /** A capture pod as the server holds it (tests also seed leftovers of a crashed kproxy). */
  seedDebugPod(pod: Json, namespace: string, status?: Json, creationTimestamp = new Date()): Json {
    const metadata = pod.metadata as { name: string };
    const created = {
      ...pod,
      metadata: {
        ...metadata,
        namespace,
        uid: `debug-${metadata.name}`,
        creationTimestamp: creationTimestamp.toISOString().replace(/\.\d+Z$/, 'Z'),
      },
      status: status ?? { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    };
    this.debugPods.set(`${namespace}/${metadata.name}`, created);
    return created;
  }

  get liveDebugPods(): string[] {
    return [...this.debugPods.keys()];
  }

  /** A bundle document, parsed once (undefined when the bundle does not hold it). */
  doc(rel: string): Promise<unknown> {
    let cached = this.cache.get(rel);
    if (!cached) {
      cached = this.files.readJson(rel).then((c) => (c.state === 'collected' ? c.value : undefined));
      this.cache.set(rel, cached);
    }
    return cached;
  }

  json(rel: string, verb: string, resource: string, namespace?: string): Promise<unknown> {
    return this.doc(rel).then((value) => {
      if (value === undefined) throw forbiddenResource(verb, resource, namespace);
      return value;
    });
  }

  async items(rel: string, resource: string, namespace: string | undefined): Promise<Json[]> {
    if (namespace && (resource === 'pods' || resource === 'services')) {
      const merged = await this.withControllerObjects(rel, resource, namespace);
      return resource === 'pods' ? this.afterEvictions(merged) : merged;
    }
    const doc = (await this.json(rel, 'list', resource, namespace)) as { items?: Json[] };
    return doc.items ?? [];
  }

  /**
   * A namespace's pods (services): its pods.json (services.json), with the ingress/load-balancer
   * controller objects of `controller-pods.json` (`controller-services.json`) that live there
   * (collect lists those across namespaces). A namespace with neither was not collected (403).
   */
  private async withControllerObjects(
    rel: string,
    resource: ControllerResource,
    namespace: string,
  ): Promise<Json[]> {
    const extra = (await this.controllerObjects(resource)).filter(
      (p) => (p.metadata as { namespace?: string } | undefined)?.namespace === namespace,
    );
    let own: Json[];
    try {
      own = ((await this.json(rel, 'list', resource, namespace)) as { items?: Json[] }).items ?? [];
    } catch (error) {
      if (extra.length === 0) throw error;
      own = [];
    }
    const names = new Set(own.map((p) => (p.metadata as { name?: string }).name));
    return [...own, ...extra.filter((p) => !names.has((p.metadata as { name?: string }).name))];
  }

  private controllerObjects(resource: ControllerResource): Promise<Json[]> {
    const file = controllerFiles[resource];
    let cached = this.cache.get(file) as Promise<Json[]> | undefined;
    if (!cached) {
      cached = this.files
        .readJson(file)
        .then((c) => (c.state === 'collected' ? ((c.value as { items?: Json[] }).items ?? []) : []));
      this.cache.set(file, cached);
    }
    return cached;
  }

  /**
   * The CRD group/versions the served cluster has: those whose resource the bundle holds in
   * some namespace, or could not read for a reason other than the group not being served.
   */
  async installedCrdGroups(): Promise<ReadonlySet<string>> {
    let cached = this.cache.get('crd-groups') as Promise<ReadonlySet<string>> | undefined;
    if (!cached) {
      cached = (async () => {
        const installed = new Set<string>();
        const manifest = await this.files.readJson('bundle.json');
        const notCollected =
          manifest.state === 'collected'
            ? ((manifest.value as { notCollected?: Record<string, string> }).notCollected ?? {})
            : {};
        for (const [resource, gv] of Object.entries(crdGroups)) {
          const file = `${resource}.json`;
          for (const ns of await this.files.listDirs('namespaces'))
            if ((await this.files.fileSize(`namespaces/${ns}/${file}`)) !== undefined) installed.add(gv);
          for (const [rel, why] of Object.entries(notCollected))
            if (rel.endsWith(`/${file}`) && !/is not served/.test(why)) installed.add(gv);
        }
        return installed;
      })();
      this.cache.set('crd-groups', cached);
    }
    return cached;
  }

  /**
   * Evicted pods as the API server then shows them: terminating (a `deletionTimestamp`) for
   * their grace period, then gone (pkg/registry/core/pod/storage/eviction.go deletes the pod
   * once the eviction is admitted).
   */
  afterEvictions(items: Json[]): Json[] {
    const grace = this.podTerminationMs ?? 0;
    return items.flatMap((item) => {
      const meta = item.metadata as { name?: string; namespace?: string };
      const at = this.evictedAt.get(`${meta.namespace}/${meta.name}`);
      if (at === undefined) return [item];
      if (grace !== 'never' && Date.now() >= at + grace) return [];
      return [
        {
          ...item,
          metadata: { ...meta, deletionTimestamp: new Date(at).toISOString().replace(/\.\d+Z$/, 'Z') },
        },
      ];
    });
  }

  async list(
    rel: string,
    kind: string,
    apiVersion: string,
    resource: string,
    namespace: string | undefined,
    query: URLSearchParams,
    extra: readonly Json[] = [],
  ): Promise<Json> {
    const all = [...(await this.items(rel, resource, namespace)), ...extra].filter(selectorPredicate(query));
    if (query.get('continue') && this.expireContinueTokens > 0) {
      this.expireContinueTokens--;
      throw new HttpError(
        410,
        'Expired',
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        { metadata: { continue: query.get('continue') } },
      );
    }
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

  async getOne(rel: string, resource: string, name: string, namespace: string | undefined): Promise<Json> {
    const item = (await this.items(rel, resource, namespace)).find(
      (i) => (i.metadata as { name?: string } | undefined)?.name === name,
    );
    if (!item) throw new HttpError(404, 'NotFound', `${resource} "${name}" not found`);
    return item;
  }

  async log(ns: string, pod: string, query: URLSearchParams): Promise<string> {
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
      throw forbiddenResource('get', 'pods/log', ns);
    }
    const tail = Number(query.get('tailLines') ?? 0);
    if (!tail) return text.value;
    const lines = text.value.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return `${lines.slice(-tail).join('\n')}\n`;
  }

  async podNode(ns: string, pod: string): Promise<string> {
    const debug = this.debugPods.get(`${ns}/${pod}`) as { spec?: { nodeName?: string } } | undefined;
    if (debug?.spec?.nodeName) return debug.spec.nodeName;
    const item = (await this.getOne(`namespaces/${ns}/pods.json`, 'pods', pod, ns)) as {
      spec?: { nodeName?: string };
    };
    if (!item.spec?.nodeName) throw new HttpError(400, 'BadRequest', 'pod is not scheduled');
    return item.spec.nodeName;
  }
}

function objectKey(pod: Json): string {
  const meta = pod.metadata as { namespace?: string; name?: string } | undefined;
  return `${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
}
