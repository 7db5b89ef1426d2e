/**
 * Node churn around the incident (runbook 000's real incident: "after a node scale-down
 * event … a subset of nodes had corrupted kube-proxy iptables rules following repeated
 * scale events"). Which nodes joined or left in the hours before the observation, from
 * node creation timestamps and the lifecycle events their controllers record, and whether
 * the nodes in scope are among them. Context for the decision rule, never a root cause.
 */
import type { KubeEvent, Node } from '../cluster/kube-types.js';
import type { ClusterView } from '../cluster/view.js';
import type { Check, NodeVerdict } from './types.js';
import { finding } from './types.js';

/** "Recent": the window the timeline also reads kube-proxy logs in. */
export const churnWindowMs = 6 * 3600 * 1000;

/**
 * Node lifecycle events by reason, from their recorders:
 * - node-controller (kubernetes pkg/controller/nodelifecycle node_lifecycle_controller.go):
 *   `RegisteredNode` "Registered Node X in Controller", `RemovingNode` "Removing Node X
 *   from Controller"; `NodeNotReady` (pkg/controller/util/node `RecordNodeStatusChange`);
 * - cluster-autoscaler (core/scaledown/actuation/actuator.go): `ScaleDown` "marked the
 *   node as toBeDeleted/unschedulable";
 * - Karpenter (pkg/controllers/disruption/events/events.go `Terminating`):
 *   `DisruptionTerminating` "Disrupting Node: Underutilized", and its interruption
 *   handling `SpotInterrupted`, `InstanceTerminating`, `TerminatingOnInterruption`.
 */
const joined = new Set(['RegisteredNode']);
const leaving = new Set([
  'RemovingNode',
  'ScaleDown',
  'DisruptionTerminating',
  'SpotInterrupted',
  'InstanceTerminating',
  'TerminatingOnInterruption',
]);
const unstable = new Set(['NodeNotReady']);

export interface ChurnEvent {
  readonly at: Date;
  readonly node: string;
  readonly kind: 'joined' | 'leaving' | 'unstable';
  readonly quote: string;
}

export const nodeChurn: Check = {
  id: 'nodes.churn',
  domain: 'nodes',
  title: 'Node churn (scale-up/scale-down) around the incident',
  run(view, facts) {
    if (view.nodes.state === 'missing' && view.events.state === 'missing')
      return finding(this, 'unknown', `cannot read nodes or their events: ${view.nodes.reason}`);
    const since = view.observedAt.getTime() - churnWindowMs;
    const events = churnEvents(view).filter((e) => e.at.getTime() >= since);
    const newNodes = recentNodes(view, since);
    const churned = new Map<string, string[]>();
    const note = (node: string, why: string) => churned.set(node, [...(churned.get(node) ?? []), why]);
    for (const n of newNodes) note(n.metadata.name, `joined ${ago(view, n.metadata.creationTimestamp)}`);
    const fresh = new Set(newNodes.map((n) => n.metadata.name));
    for (const e of events)
      if (e.kind === 'joined' && fresh.has(e.node)) continue;
      else if (e.kind !== 'leaving' || view.nodes.state === 'missing' || isListed(view, e.node))
        note(e.node, `${verbs[e.kind]} ${ago(view, e.at.toISOString())}`);
    // Not in the node list: gone, or (a live view of one --node lists only it) on its way out.
    const removed = [...new Set(events.filter((e) => e.kind === 'leaving').map((e) => e.node))].filter(
      (n) => view.nodes.state === 'collected' && !isListed(view, n),
    );
    const evidence = [
      ...newNodes.map(
        (n) => `Node ${n.metadata.name}: metadata.creationTimestamp ${n.metadata.creationTimestamp}`,
      ),
      ...events.map((e) => e.quote),
    ].slice(0, 12);
    const gaps = [
      view.nodes.state === 'missing' ? `node ages unknown (${view.nodes.reason})` : '',
      view.events.state === 'missing' ? `node events unknown (${view.events.reason})` : '',
    ].filter(Boolean);
    if (churned.size === 0 && removed.length === 0)
      return finding(
        this,
        gaps.length > 0 ? 'unknown' : 'pass',
        `no node joined or left in the ${hours} h before ${view.observedAt.toISOString()}${gaps.length > 0 ? `; ${gaps.join('; ')}` : ''}`,
      );
    const inScope = facts.nodesInScope.filter((n) => churned.has(n));
    const verdicts: Record<string, NodeVerdict> = {};
    for (const n of inScope)
      verdicts[n] = { status: 'info', summary: `recently churned: ${(churned.get(n) ?? []).join(', ')}` };
    const summary = [
      removed.length > 0
        ? `${removed.length} node(s) scaled down or being removed (${removed.slice(0, 3).join(', ')})`
        : '',
      churned.size > 0
        ? `${churned.size} node(s) joined or changed (${[...churned.keys()].slice(0, 3).join(', ')})`
        : '',
    ]
      .filter(Boolean)
      .join(', ');
    const scopeText =
      inScope.length > 0
        ? `; the node(s) in scope are among the recently churned: ${inScope.join(', ')}`
        : `; the node(s) in scope (${facts.nodesInScope.slice(0, 3).join(', ') || 'none'}) are not among them`;
    return finding(
      this,
      // The question is whether the affected nodes are the churned ones: churn elsewhere passes.
      // Churn is context, not a fault (a healthy cluster that just scaled is healthy): `info`,
      // which the decision rule reads when another check found a sync fault on those nodes.
      inScope.length > 0 ? 'info' : 'pass',
      `node churn in the ${hours} h before the incident: ${summary}${scopeText}`,
      { evidence, nodes: verdicts },
    );
  },
};

const hours = churnWindowMs / 3600_000;
const verbs: Readonly<Record<ChurnEvent['kind'], string>> = {
  joined: 'registered',
  leaving: 'being removed',
  unstable: 'NotReady',
};

function isListed(view: ClusterView, node: string): boolean {
  return view.nodes.state === 'collected' && view.nodes.value.some((n) => n.metadata.name === node);
}

function recentNodes(view: ClusterView, since: number): Node[] {
  if (view.nodes.state === 'missing') return [];
  return view.nodes.value.filter((n) => {
    const created = Date.parse(n.metadata.creationTimestamp ?? '');
    return !Number.isNaN(created) && created >= since && created <= view.observedAt.getTime();
  });
}

/** The node lifecycle events of the view, oldest first. */
export function churnEvents(view: ClusterView): ChurnEvent[] {
  if (view.events.state === 'missing') return [];
  return view.events.value
    .filter((e) => e.involvedObject.kind === 'Node' && e.involvedObject.name)
    .flatMap((e): ChurnEvent[] => {
      const kind = kindOf(e);
      const at = new Date(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? Number.NaN);
      if (!kind || Number.isNaN(at.getTime())) return [];
      const node = e.involvedObject.name as string;
      const by = e.source?.component ? ` (${e.source.component})` : '';
      return [
        {
          at,
          node,
          kind,
          quote: `${at.toISOString()} Event ${e.reason} Node/${node}${by}: ${e.message ?? ''}`.trim(),
        },
      ];
    })
    .sort((a, b) => a.at.getTime() - b.at.getTime());
}

function kindOf(e: KubeEvent): ChurnEvent['kind'] | undefined {
  const reason = e.reason ?? '';
  if (joined.has(reason)) return 'joined';
  if (leaving.has(reason)) return 'leaving';
  if (unstable.has(reason)) return 'unstable';
  return undefined;
}

function ago(view: ClusterView, iso: string | null | undefined): string {
  const t = Date.parse(iso ?? '');
  if (Number.isNaN(t)) return '';
  const minutes = Math.round((view.observedAt.getTime() - t) / 60_000);
  return `${minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`} before the observation`;
}

/** The nodes the churn check found recently churned among `nodes` (for the decision rule). */
export function churnedAmong(
  findings: readonly { check: string; nodes?: Readonly<Record<string, NodeVerdict>> }[],
  nodes: readonly string[],
): { node: string; why: string }[] {
  const churn = findings.find((f) => f.check === nodeChurn.id)?.nodes ?? {};
  return nodes.flatMap((n) => {
    const v = churn[n];
    return v?.status === 'info' ? [{ node: n, why: v.summary.replace(/^recently churned: /, '') }] : [];
  });
}
