/**
 * Which nodes a diagnosis examines node by node (kube-proxy's pod, logs, health, rules).
 * One pure rule, used by the facts and by both sources before they read per-node data, so
 * a live diagnosis, a bundle it collected and a full bundle of the same cluster examine
 * the same nodes, and a diagnosis's per-node cost does not grow with the cluster:
 * - the target node (`--node`);
 * - else the client's nodes (`--from`), where its connections are DNATed;
 * - else, for a Service, the nodes hosting its endpoints (ready ones first) and the nodes
 *   whose kube-proxy is unhealthy (so a crash elsewhere is still examined), at most
 *   `maxScopedNodes`; kube-proxy's DaemonSet status still covers every node;
 * - else (cluster-wide) every node.
 */
import type { Collected } from '../../cluster/collected.js';
import type { Pod } from '../../cluster/kube-types.js';
import type { Target } from '../../cluster/view.js';
import type { EndpointAddress } from './facts.js';
import { isPodReady, podNode, restartCount } from './pods.js';

/** Most nodes a Service-scoped (or client-scoped) diagnosis examines node by node. */
export const maxScopedNodes = 3;

export type ScopeBasis = 'target' | 'client' | 'endpoints' | 'cluster';

export interface NodeScope {
  readonly nodes: readonly string[];
  readonly basis: ScopeBasis;
  /** Candidate nodes (endpoint, client or unhealthy kube-proxy nodes) left out by the bound. */
  readonly beyondBound: number;
}

export interface ScopeInput {
  readonly target: Target;
  /** Every node name known (node list, else kube-proxy pods). */
  readonly allNodes: readonly string[];
  readonly clientNodes: readonly string[] | undefined;
  /** Nodes of the target Service's endpoints, ready ones first. */
  readonly endpointNodes: readonly string[];
  readonly unhealthyKubeProxyNodes: readonly string[];
}

export function nodeScope(input: ScopeInput): NodeScope {
  if (input.target.node) return { nodes: [input.target.node], basis: 'target', beyondBound: 0 };
  if (input.clientNodes && input.clientNodes.length > 0) return bounded(input.clientNodes, 'client');
  if (input.target.service) {
    const unhealthy = new Set(input.unhealthyKubeProxyNodes);
    return bounded(
      [
        ...input.endpointNodes.filter((n) => unhealthy.has(n)),
        ...input.endpointNodes,
        ...input.unhealthyKubeProxyNodes,
      ],
      'endpoints',
    );
  }
  return { nodes: input.allNodes, basis: 'cluster', beyondBound: 0 };
}

function bounded(candidates: readonly string[], basis: ScopeBasis): NodeScope {
  const unique = [...new Set(candidates)];
  return {
    nodes: unique.slice(0, maxScopedNodes).sort(),
    basis,
    beyondBound: Math.max(0, unique.length - maxScopedNodes),
  };
}

/** Nodes of the endpoints, those with a ready endpoint first, each group sorted. */
export function endpointNodes(endpoints: Collected<readonly EndpointAddress[]>): string[] {
  if (endpoints.state === 'missing') return [];
  const ready = new Set<string>();
  const other = new Set<string>();
  for (const e of endpoints.value) if (e.node) (e.ready ? ready : other).add(e.node);
  for (const n of ready) other.delete(n);
  return [...[...ready].sort(), ...[...other].sort()];
}

/** Nodes whose kube-proxy pod is not Ready or has restarted. */
export function unhealthyKubeProxyNodes(pods: Collected<readonly Pod[]>): string[] {
  if (pods.state === 'missing') return [];
  const nodes = new Set<string>();
  for (const p of pods.value) {
    const node = podNode(p);
    if (node && (!isPodReady(p) || restartCount(p) > 0)) nodes.add(node);
  }
  return [...nodes].sort();
}

/** One line for the report: how many nodes were examined, on what basis, and what was not. */
export function scopeNote(
  scope: NodeScope,
  clusterSize: number,
  service: string | undefined,
): string | undefined {
  if (scope.basis !== 'endpoints' && scope.basis !== 'client') return undefined;
  const others = Math.max(0, clusterSize - scope.nodes.length);
  if (others === 0 && scope.beyondBound === 0) return undefined;
  const basis =
    scope.basis === 'client'
      ? "the client's nodes"
      : `the nodes hosting ${service ?? 'the Service'}'s endpoints and any whose kube-proxy is unhealthy`;
  const bound =
    scope.beyondBound > 0
      ? ` (${scope.beyondBound} more such node(s) left out: at most ${maxScopedNodes} are examined)`
      : '';
  return `examined ${scope.nodes.length} of ${clusterSize} node(s) node by node: ${basis}${bound}; ${others} node(s) not examined (name one with --node to examine it); kube-proxy's DaemonSet status covers every node`;
}
