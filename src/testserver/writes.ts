/**
 * The writes the test API server accepts: kproxy's capture pods (create, delete), and the
 * remediation writes (PATCH of a DaemonSet, Node or ConfigMap; DELETE of a pod; a
 * policy/v1 Eviction), recorded for the tests and answered with the object. An admitted
 * eviction deletes the pod (pkg/registry/core/pod/storage/eviction.go): it terminates, then
 * is gone (BundleStore.afterEvictions); a second eviction of it is a 404.
 */
import { debugPodLabels } from '../cluster/live/node-captures.js';
import { probePodLabels } from '../cluster/live/probe-pod.js';
import type { BundleStore } from './bundle-store.js';
import { HttpError } from './status.js';

type Json = Record<string, unknown>;

/** A write the server accepted (tests assert exactly which writes an action made). */
export interface Mutation {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: unknown;
  /** Impersonate-User / Impersonate-Group headers, when the client sent them. */
  readonly impersonate?: { user: string; groups: string[] };
}

export class Writes {
  /** Capture pods as created, and the DeleteOptions of their deletion (tests check the hardening). */
  readonly capturePods: { created: Json[]; deleteOptions: unknown[] } = { created: [], deleteOptions: [] };

  constructor(
    private readonly store: BundleStore,
    private readonly record: (mutation: Mutation) => void,
    private readonly debugPodStatus: Json | undefined,
  ) {}

  async post(path: string, body: string): Promise<Json> {
    const eviction = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(path);
    if (eviction) {
      const pod = await this.store.getOne(
        `namespaces/${eviction[1]}/pods.json`,
        'pods',
        eviction[2] as string,
        eviction[1],
      );
      this.record({
        method: 'POST',
        path,
        contentType: 'application/json',
        body: JSON.parse(body) as unknown,
      });
      const key = `${eviction[1]}/${eviction[2]}`;
      if (!this.store.evictedAt.has(key)) this.store.evictedAt.set(key, Date.now());
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
    const has = (wanted: Readonly<Record<string, string>>) =>
      Object.entries(wanted).every(([k, v]) => labels[k] === v);
    const probe = has(probePodLabels);
    if (!(has(debugPodLabels) || probe) || !pod.metadata?.name || !pod.spec?.nodeName) {
      throw new HttpError(
        403,
        'Forbidden',
        'only kproxy capture pods (labelled, pinned to a node) may be created',
      );
    }
    this.capturePods.created.push(pod as Json);
    // The probe pod runs but is never Ready (its readiness probe never passes: no Service routes to it).
    const status =
      this.debugPodStatus ??
      (probe ? { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } : undefined);
    return this.store.seedDebugPod(pod as Json, m[1] as string, status);
  }

  async delete(path: string, impersonate: Mutation['impersonate'], body: string): Promise<Json> {
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path);
    const key = m ? `${m[1]}/${m[2]}` : '';
    const pod = this.store.debugPods.get(key);
    if (pod) {
      this.capturePods.deleteOptions.push(body ? (JSON.parse(body) as unknown) : undefined);
      this.store.debugPods.delete(key);
      return pod;
    }
    if (!m) throw new HttpError(403, 'Forbidden', `delete ${path} is forbidden`);
    // A bundle pod (remediation): it must exist; the write is recorded, the bundle unchanged.
    const existing = await this.store.getOne(`namespaces/${m[1]}/pods.json`, 'pods', m[2] as string, m[1]);
    this.record({
      method: 'DELETE',
      path,
      contentType: undefined,
      body: undefined,
      ...(impersonate ? { impersonate } : {}),
    });
    return existing;
  }

  /** PATCH of a DaemonSet, Node or ConfigMap (remediation): recorded, answered with the object. */
  async patch(
    path: string,
    body: string,
    contentType: string | undefined,
    impersonate?: Mutation['impersonate'],
  ): Promise<Json> {
    const ds = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/daemonsets\/([^/]+)$/.exec(path);
    const node = /^\/api\/v1\/nodes\/([^/:]+)$/.exec(path);
    const cm = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps\/([^/]+)$/.exec(path);
    const existing = ds
      ? await this.store.getOne(`namespaces/${ds[1]}/daemonsets.json`, 'daemonsets', ds[2] as string, ds[1])
      : node
        ? await this.store.getOne('nodes.json', 'nodes', node[1] as string, undefined)
        : cm
          ? await this.store.getOne(
              `namespaces/${cm[1]}/configmaps.json`,
              'configmaps',
              cm[2] as string,
              cm[1],
            )
          : undefined;
    if (!existing) throw new HttpError(403, 'Forbidden', `patch ${path} is forbidden`);
    this.record({
      method: 'PATCH',
      path,
      contentType,
      body: JSON.parse(body) as unknown,
      ...(impersonate ? { impersonate } : {}),
    });
    return existing;
  }
}
