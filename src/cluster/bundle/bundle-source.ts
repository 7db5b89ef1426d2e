/**
 * BundleSource: a ClusterView from an incident bundle (format v1, a directory or a
 * `.tar.gz`). It reads only the files a diagnosis of the target needs: the target's
 * namespace, kube-system, default's events, the nodes, and the node captures.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { BundleError, KproxyError } from '../../errors.js';
import { mapCollected } from '../collected.js';
import { isCniAgentName, isCniAgentPod, isCoreDnsPod, isKubeProxyPod } from '../selectors.js';
import type { ClusterSource, LoadRequest } from '../source.js';
import type { ClusterView, Target } from '../view.js';
import { BundleDir, type BundleFiles } from './files.js';
import { type BundleManifest, bundleManifestSchema } from './manifest.js';
import { readNorthSouth, wantsNorthSouth, withRouteBackend } from './north-south.js';
import { readProbes } from './probe-files.js';
import type { UnpackedBundle } from './tarball.js';
import { readAheadInScope, readAheadOfLists } from './view-ahead.js';
import { readViewLists } from './view-lists.js';
import {
  combineConfigMap,
  eventNamespaces,
  readEks,
  readEvents,
  readKubeProxyLogs,
  readNodeCaptures,
} from './view-reads.js';

export { eksAddonNames, nodeCaptureFiles } from './view-reads.js';

export class BundleSource implements ClusterSource {
  readonly description: string;
  private unpacked: UnpackedBundle | undefined;

  constructor(private readonly bundlePath: string) {
    this.description = `bundle ${bundlePath}`;
  }

  async load(request: LoadRequest = {}): Promise<ClusterView> {
    const root = await this.rootDir();
    const manifest = await readManifest(new BundleDir(root));
    // Read with the manifest's reasons for what collect could not read (see BundleDir).
    const dir = new BundleDir(root, manifest.notCollected);
    const target = request.clusterWide
      ? { node: request.target?.node }
      : resolveTarget(manifest, request.target);
    return buildView(dir, manifest, target, this.description);
  }

  async close(): Promise<void> {
    const unpacked = this.unpacked;
    this.unpacked = undefined;
    await unpacked?.cleanup();
  }

  private async rootDir(): Promise<string> {
    const full = path.resolve(this.bundlePath);
    let isDir: boolean;
    try {
      isDir = (await stat(full)).isDirectory();
    } catch {
      throw new KproxyError('bundle_unreadable', `${this.bundlePath}: no such bundle directory or file`);
    }
    if (isDir) return full;
    if (!/\.(tar\.gz|tgz)$/.test(full)) {
      throw new KproxyError(
        'bundle_unreadable',
        `${this.bundlePath}: a bundle is a directory or a .tar.gz file`,
      );
    }
    // tar loads only for an archive.
    this.unpacked ??= await (await import('./tarball.js')).unpackBundleTarball(full);
    return bundleRootInside(this.unpacked.dir);
  }
}

/** `tar czf b.tgz -C dir .` and `tar czf b.tgz dir/` are both accepted. */
async function bundleRootInside(dir: string): Promise<string> {
  const top = new BundleDir(dir);
  if ((await top.fileSize('bundle.json')) !== undefined) return dir;
  const dirs = await top.listDirs('.');
  if (dirs.length === 1 && dirs[0] !== undefined) {
    const inner = path.join(dir, dirs[0]);
    if ((await new BundleDir(inner).fileSize('bundle.json')) !== undefined) return inner;
  }
  return dir;
}

export async function readManifest(dir: BundleFiles): Promise<BundleManifest> {
  const manifest = await dir.readObject('bundle.json', bundleManifestSchema, 'a kproxy/v1 Bundle manifest');
  if (manifest.state === 'missing')
    throw new BundleError('bundle.json', 'missing: every bundle starts with its manifest');
  return manifest.value;
}

export function resolveTarget(manifest: BundleManifest, override: Target | undefined): Target {
  const from = manifest.target.from?.split('/') as [string, string] | undefined;
  const own: Target = {
    namespace: manifest.target.namespace ?? undefined,
    service: manifest.target.service ?? undefined,
    node: manifest.target.node ?? undefined,
    from: from ? { namespace: from[0], name: from[1] } : undefined,
    route: manifest.target.route ?? undefined,
  };
  if (!override) return own;
  // A route given is a new target: its backend, not the bundle's Service.
  const serviceGiven = override.service !== undefined || override.route !== undefined;
  return {
    namespace: serviceGiven ? override.namespace : own.namespace,
    service: serviceGiven ? override.service : own.service,
    node: override.node ?? own.node,
    from: override.from ?? (serviceGiven ? undefined : own.from),
    route: override.route ?? (serviceGiven ? undefined : own.route),
  };
}

/**
 * The view of a bundle's files; the live source builds its view with this too. Lists are
 * selected before they are validated (selection.ts): only what the checks read is, and
 * the big ones are let go once selected (view-lists.ts).
 */
export async function buildView(
  dir: BundleFiles,
  manifest: BundleManifest,
  routeTarget: Target,
  origin: string,
): Promise<ClusterView> {
  const target = await withRouteBackend(dir, routeTarget);
  const ns = target.namespace;
  // The disk reads what later steps take while the main thread parses (view-ahead.ts).
  const nodeDirs = readAheadOfLists(dir, target);
  const lists = await readViewLists(dir, target, (scope) => readAheadInScope(dir, nodeDirs, scope));
  const { system, service } = lists;
  const kubeProxyDaemonSet = mapCollected(system.daemonSets, (list) =>
    list.find((ds) => ds.metadata.name === 'kube-proxy'),
  );
  const kubeProxyPods = mapCollected(system.pods, (pods) => pods.filter(isKubeProxyPod));
  return {
    cluster: manifest.cluster,
    observedAt: new Date(manifest.collectedAt),
    origin,
    target,
    version: lists.version,
    nodes: lists.nodes,
    nodeNames: lists.nodeNames,
    service,
    endpointSlices: lists.endpointSlices,
    namespacePods: lists.namespacePods,
    client: lists.client,
    networkPolicies: lists.networkPolicies,
    events: await readEvents(dir, eventNamespaces(ns)),
    kubeProxy: {
      daemonSet: kubeProxyDaemonSet,
      pods: kubeProxyPods,
      configMap: combineConfigMap(kubeProxyDaemonSet, system.configMaps),
      logs: await readKubeProxyLogs(dir, kubeProxyPods, system.podsWithLogs),
    },
    dns: {
      service: mapCollected(system.services, (list) => list.find((s) => s.metadata.name === 'kube-dns')),
      endpointSlices: system.endpointSlices,
      pods: mapCollected(system.pods, (pods) => pods.filter(isCoreDnsPod)),
      deployment: mapCollected(system.deployments, (list) => list.find((d) => d.metadata.name === 'coredns')),
    },
    systemDaemonSets: mapCollected(system.daemonSets, (list) =>
      list.filter((ds) => isCniAgentName(ds.metadata.name)),
    ),
    cniPods: mapCollected(system.pods, (pods) => pods.filter(isCniAgentPod)),
    nodeCaptures: await readNodeCaptures(dir, lists.inScope),
    eks: await readEks(dir),
    probes: await readProbes(dir),
    northSouth: wantsNorthSouth(target, service.state === 'collected' ? service.value : undefined)
      ? await readNorthSouth(dir, target)
      : undefined,
  };
}
