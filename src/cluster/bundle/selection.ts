/**
 * Select before validating: a bundle of a 5,000-node cluster lists every node and every
 * kube-system pod, while a diagnosis reads the target Service, its slices and pods, the
 * nodes in scope and the kube-proxy pods that can change a verdict. Items are chosen by
 * cheap raw predicates first and only the chosen ones are validated with zod (every item
 * is still checked for its kind, and a chosen item that is invalid is refused with the
 * file named). The scope is the engine's own rule (checks/lib/scope.ts), so the view holds
 * every object a check reads.
 */

import { endpointsOf } from '../../checks/lib/endpoints.js';
import { clientNodes } from '../../checks/lib/facts.js';
import { nearMissesNamed } from '../../checks/lib/pods.js';
import { endpointNodes, type NodeScope, nodeScope, unhealthyKubeProxyNodes } from '../../checks/lib/scope.js';
import { targetHealthPrefix } from '../../checks/lib/target-health.js';
import type { ClientView } from '../client.js';
import { type Collected, collected } from '../collected.js';
import { type DaemonSet, type EndpointSlice, type Pod, podSchema } from '../kube-types.js';
import { coreDnsLabel, isCniAgentName, kubeProxyLabel } from '../selectors.js';
import type { Target } from '../view.js';
import { jitThreshold, validateItem } from './list-items.js';

type Raw = Record<string, unknown>;

interface RawMeta {
  name?: unknown;
  labels?: Record<string, unknown>;
  deletionTimestamp?: unknown;
  ownerReferences?: { kind?: unknown; name?: unknown }[];
}

interface RawContainerStatus {
  restartCount?: unknown;
  state?: { waiting?: unknown };
  lastState?: { terminated?: unknown };
}

const meta = (item: Raw): RawMeta => (item.metadata ?? {}) as RawMeta;
const nodeOf = (item: Raw): unknown => (item.spec as { nodeName?: unknown } | undefined)?.nodeName;
const appLabel = (item: Raw): unknown => meta(item).labels?.['k8s-app'];

export const isRawKubeProxyPod = (item: Raw): boolean => appLabel(item) === kubeProxyLabel.value;
const isRawCoreDnsPod = (item: Raw): boolean => appLabel(item) === coreDnsLabel.value;

/** Owned by (or named like) a CNI agent DaemonSet, as selectors.isCniAgentPod decides. */
export function isRawCniAgentPod(item: Raw): boolean {
  const m = meta(item);
  const owner = m.ownerReferences?.find((o) => o.kind === 'DaemonSet')?.name;
  if (typeof owner === 'string') return isCniAgentName(owner);
  return typeof m.name === 'string' && isCniAgentName(m.name);
}

/**
 * A pod that may fail a check: not Ready, restarted, waiting, terminated before, or being
 * deleted. A superset of scope.ts's "unhealthy" and of what the blast radius names.
 */
export function isRawTroubledPod(item: Raw): boolean {
  const status = (item.status ?? {}) as { conditions?: unknown; containerStatuses?: unknown };
  if (meta(item).deletionTimestamp) return true;
  const conditions = Array.isArray(status.conditions) ? (status.conditions as Raw[]) : [];
  if (!conditions.some((c) => c.type === 'Ready' && c.status === 'True')) return true;
  const statuses = Array.isArray(status.containerStatuses)
    ? (status.containerStatuses as RawContainerStatus[])
    : [];
  return statuses.some(
    (c) => c.restartCount !== 0 || c.state?.waiting !== undefined || c.lastState?.terminated !== undefined,
  );
}

/** Runs another kube-proxy image than the DaemonSet's template (a roll-out in progress, a skew). */
function runsOtherImage(item: Raw, image: string | null | undefined): boolean {
  const containers = (item.spec as { containers?: unknown } | undefined)?.containers;
  if (!Array.isArray(containers)) return true;
  return (containers as { name?: unknown; image?: unknown }[]).some(
    (c) => c.name === 'kube-proxy' && c.image !== image,
  );
}

/**
 * The target namespace's pods a diagnosis reads, as a predicate over the list in file order:
 * those the Service selects; the first `nearMissesNamed` that miss its selector by exactly
 * one label (endpoints-ready names them when none is selected); and any other near miss
 * with an AWS target-health readiness gate or condition (target-groups reads those of the
 * nearly selected pods). A namespace of 2,000 pods under a one-label selector would
 * otherwise have every pod validated: each misses that selector by one label at most.
 */
export function namespacePodsRead(
  selector: Readonly<Record<string, string>> | undefined,
): (item: Raw) => boolean {
  if (!selector || Object.keys(selector).length === 0) return () => false;
  const keys = Object.entries(selector);
  let nearMisses = 0;
  return (item) => {
    const labels = meta(item).labels ?? {};
    let mismatches = 0;
    for (const [k, v] of keys) if (labels[k] !== v && ++mismatches > 1) return false;
    if (mismatches === 0) return true;
    if (nearMisses < nearMissesNamed) {
      nearMisses++;
      return true;
    }
    return hasTargetHealthGate(item);
  };
}

/** A readiness gate or condition of the AWS Load Balancer Controller's target health. */
function hasTargetHealthGate(item: Raw): boolean {
  const prefix = `${targetHealthPrefix}/`;
  const gates = (item.spec as { readinessGates?: unknown } | undefined)?.readinessGates;
  const conditions = (item.status as { conditions?: unknown } | undefined)?.conditions;
  return (
    (Array.isArray(gates) &&
      gates.some((g: { conditionType?: unknown }) => String(g?.conditionType).startsWith(prefix))) ||
    (Array.isArray(conditions) &&
      conditions.some((c: { type?: unknown }) => String(c?.type).startsWith(prefix)))
  );
}

export interface SystemPodSelection {
  readonly pods: Pod[];
  readonly scope: NodeScope;
}

export interface ScopeParts {
  readonly target: Target;
  /**
   * Whether the bundle lists its nodes. Their names are not needed here (the cluster basis
   * examines every node whatever they are called), so the list is parsed after this selection.
   */
  readonly hasNodeList: boolean;
  readonly slices: Collected<readonly EndpointSlice[]>;
  readonly client: Collected<ClientView> | undefined;
  readonly kubeProxyDaemonSet: DaemonSet | undefined;
  /** Every kube-proxy pod is needed (blast-radius.ts: DaemonSet trouble or version skew). */
  readonly everyKubeProxy: boolean;
  /** kube-proxy pods whose logs the bundle holds (the blast radius reads them). */
  readonly podsWithLogs: ReadonlySet<string>;
}

/**
 * kube-system pods a diagnosis reads: CoreDNS; kube-proxy pods that can change a verdict
 * anywhere (troubled, other image, logs collected; all when `everyKubeProxy`); and the
 * kube-proxy and CNI agent pods of the nodes in scope. Kept in the file's order.
 */
export function selectSystemPods(rel: string, items: readonly Raw[], parts: ScopeParts): SystemPodSelection {
  const { target } = parts;
  const dsImage = parts.kubeProxyDaemonSet?.spec.template.spec.containers.find(
    (c) => c.name === 'kube-proxy',
  )?.image;
  // Without a node list, or cluster-wide, every node is in scope: read every kube-proxy pod.
  const every =
    parts.everyKubeProxy ||
    !parts.kubeProxyDaemonSet ||
    !parts.hasNodeList ||
    (!target.node && !target.service);
  const anywhere = (item: Raw) =>
    isRawCoreDnsPod(item) ||
    (isRawKubeProxyPod(item) &&
      (every ||
        isRawTroubledPod(item) ||
        runsOtherImage(item, dsImage) ||
        parts.podsWithLogs.has(String(meta(item).name))));
  const first = validateByIndex(rel, items, anywhere);
  const kubeProxyPods = [...first.values()].filter(
    (p) => p.metadata.labels?.[kubeProxyLabel.key] === kubeProxyLabel.value,
  );
  // The same inputs the facts derive from the view this selection builds, but the node
  // names: in the cluster basis every node is in scope (and `scope.nodes` is left empty).
  const scope = nodeScope({
    target,
    allNodes: [],
    clientNodes: clientNodes({ client: parts.client }),
    endpointNodes: endpointNodes(endpointsOf(parts.slices)),
    unhealthyKubeProxyNodes: unhealthyKubeProxyNodes(collected(kubeProxyPods)),
  });
  const inScope = new Set(scope.nodes);
  // The node first: it rules out nearly all of 50,000 pods with one lookup.
  const onScopeNode = (item: Raw, index: number) =>
    (scope.basis === 'cluster' || inScope.has(String(nodeOf(item)))) &&
    !first.has(index) &&
    (isRawKubeProxyPod(item) || isRawCniAgentPod(item));
  const second = validateByIndex(rel, items, onScopeNode);
  const pods = [...first, ...second].sort((a, b) => a[0] - b[0]).map(([, pod]) => pod);
  return { pods, scope };
}

function validateByIndex(
  rel: string,
  items: readonly Raw[],
  keep: (item: Raw, index: number) => boolean,
): Map<number, Pod> {
  const chosen: number[] = [];
  for (let i = 0; i < items.length; i++) if (keep(items[i] as Raw, i)) chosen.push(i);
  const few = chosen.length < jitThreshold;
  const out = new Map<number, Pod>();
  for (const i of chosen) out.set(i, validateItem(rel, 'Pod', podSchema, items[i], i, few));
  return out;
}
