/**
 * When the live source reads kube-proxy pods cluster-wide. A target-scoped diagnosis reads
 * only the target node's kube-system pods (its cost must not grow with the cluster), but
 * naming every node with the same failure needs every kube-proxy pod: it is read (one
 * label-selected list, one pod per node) only when the DaemonSet shows trouble beyond one
 * node could explain, or runs another minor version than the control plane.
 */
import { imageTag, parseMinorVersion } from '../../checks/lib/versions.js';
import type { DaemonSet } from '../kube-types.js';

/**
 * The bundle source applies the same rule before validating kube-system pods, so offline
 * and live diagnoses see the same blast radius.
 */
export function needsEveryKubeProxyPod(
  ds: DaemonSet | undefined,
  serverGitVersion: string | undefined,
): boolean {
  if (!ds) return false;
  if ((ds.status?.numberUnavailable ?? 0) > 0) return true;
  const container = ds.spec.template.spec.containers.find((c) => c.name === 'kube-proxy');
  const proxy = parseMinorVersion(imageTag(container?.image));
  const server = serverGitVersion ? parseMinorVersion(serverGitVersion) : undefined;
  return !!proxy && !!server && (proxy.major !== server.major || proxy.minor !== server.minor);
}

/** The gitVersion of a /version body (k8s.io/apimachinery pkg/version.Info), if it is one. */
export function gitVersionOf(body: string): string | undefined {
  try {
    const doc = JSON.parse(body) as { gitVersion?: unknown } | null;
    return typeof doc?.gitVersion === 'string' ? doc.gitVersion : undefined;
  } catch {
    return undefined;
  }
}
