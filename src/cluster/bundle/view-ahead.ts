/**
 * Which of a view's files are read ahead (read-ahead.ts), and when: each as soon as what
 * decides it is known. The events, the kube-system lists (but pods.json: systemListFiles),
 * the EKS files and the probe matrices need only the target, so they start with the lists;
 * the node captures and the kube-proxy logs need the node scope and the kube-proxy pods, so
 * they start once kube-system's pods are selected, while nodes.json is parsed. Nothing here
 * throws: a read that fails keeps its error for the step that takes it (or is dropped).
 */
import { type Collected, mapCollected } from '../collected.js';
import { ec2Documents } from '../eks/ec2-types.js';
import type { Pod } from '../kube-types.js';
import { isKubeProxyPod } from '../selectors.js';
import type { Target } from '../view.js';
import { auditLogFile, ec2File } from './eks-extras.js';
import type { BundleFiles } from './files.js';
import { probeFile } from './probe-files.js';
import {
  eksAddonFile,
  eksAddonNames,
  eksClusterFile,
  eventNamespaces,
  eventsFile,
  kubeProxyLogFiles,
  nodeCaptureReads,
} from './view-reads.js';

/** At most this many nodes' captures or probe matrices are read ahead (the rest as before). */
const aheadNodes = 16;

/**
 * kube-system's small lists, which readViewLists reads after the target namespace's. Not
 * its pods.json: read ahead, its buffer (61 MiB at 5,000 nodes) and nodes.json's are held
 * at once while the heap is still ~10 MB, and V8 answers that much external memory with a
 * full collection then; the old generation's next limit, set from so small a heap, then
 * falls inside the pods.json parse and the next full collection marks ~130 MB of objects
 * (measured: every run, 25-50 ms pause plus 40-60 ms of incremental marking). Read after
 * the target namespace's lists, as before (in one request: whole-file.ts), it is not.
 */
export const systemListFiles = ['daemonsets', 'configmaps', 'services', 'endpointslices', 'deployments'].map(
  (resource) => `namespaces/kube-system/${resource}.json`,
);

/**
 * Starts the reads that need only the target; the node directories' names come back, for
 * the reads the node scope decides.
 */
export function readAheadOfLists(dir: BundleFiles, target: Target): Promise<string[]> {
  dir.readAhead([
    ...systemListFiles.map((json) => ({ json })),
    ...eventNamespaces(target.namespace).map((n) => ({ json: eventsFile(n) })),
    ...eksAddonNames.map((name) => ({ json: eksAddonFile(name) })),
    { json: eksClusterFile },
    ...Object.keys(ec2Documents).map((doc) => ({ json: ec2File(doc as keyof typeof ec2Documents) })),
    { text: auditLogFile },
  ]);
  dir.listDirs('probe').then(
    (nodes) => dir.readAhead(nodes.slice(0, aheadNodes).map((node) => ({ text: probeFile(node) }))),
    () => {},
  );
  return dir.listDirs('nodes').catch(() => []);
}

export interface ScopeKnown {
  readonly inScope: (node: string) => boolean;
  /** The kube-system pods the view keeps (its kube-proxy pods among them). */
  readonly systemPods: Collected<Pod[]>;
  readonly podsWithLogs: ReadonlySet<string>;
}

/** Starts the reads of the node captures (in-scope nodes first) and of the kube-proxy logs. */
export async function readAheadInScope(
  dir: BundleFiles,
  nodeDirs: Promise<string[]>,
  scope: ScopeKnown,
): Promise<void> {
  const nodes = await nodeDirs;
  const ordered = [...nodes.filter(scope.inScope), ...nodes.filter((n) => !scope.inScope(n))];
  dir.readAhead([
    ...ordered
      .slice(0, aheadNodes)
      .flatMap((n) => nodeCaptureReads(n, scope.inScope(n)).map((text) => ({ text }))),
    ...kubeProxyLogFiles(
      mapCollected(scope.systemPods, (pods) => pods.filter(isKubeProxyPod)),
      scope.podsWithLogs,
    ).flatMap((f) => [{ log: f.current }, { log: f.previous }]),
  ]);
}
