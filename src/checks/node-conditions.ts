import type { Node } from '../cluster/kube-types.js';
import { nodeCondition } from './lib/pods.js';
import type { Check, NodeVerdict } from './types.js';
import { finding } from './types.js';

const flapWindowMs = 30 * 60 * 1000;
const flapEvents = 2;

/** Node conditions of the nodes in scope: NotReady, NetworkUnavailable, flapping. */
export const nodeConditions: Check = {
  id: 'nodes.conditions',
  domain: 'nodes',
  title: 'Node conditions',
  run(view, facts) {
    if (view.nodes.state === 'missing')
      return finding(this, 'unknown', `cannot read nodes: ${view.nodes.reason}`);
    const byName = new Map(view.nodes.value.map((n) => [n.metadata.name, n]));
    const endpointNodes = new Set(
      facts.endpoints.state === 'collected'
        ? facts.endpoints.value.filter((e) => e.ready).map((e) => e.node)
        : [],
    );
    const verdicts: Record<string, NodeVerdict> = {};
    // The scope leaves nodes out: say how many and why, whatever the verdict.
    const evidence: string[] = facts.scopeNote ? [facts.scopeNote] : [];
    const failing: string[] = [];
    const flapping: string[] = [];
    for (const name of facts.nodesInScope) {
      const node = byName.get(name);
      if (!node) {
        verdicts[name] = { status: 'fail', summary: 'node not found' };
        evidence.push(`Node ${name}: not in the node list`);
        failing.push(name);
        continue;
      }
      const problems = nodeProblems(node);
      const flaps = flapCount(view, name);
      if (problems.length > 0) {
        verdicts[name] = { status: 'fail', summary: problems.map((p) => p.short).join(', ') };
        evidence.push(...problems.map((p) => p.evidence));
        failing.push(name);
      } else if (flaps >= flapEvents) {
        verdicts[name] = { status: 'warn', summary: `Ready flapped ${flaps} times in 30 min` };
        evidence.push(`Node ${name}: ${flaps} NodeNotReady/NodeReady events within 30 minutes`);
        flapping.push(name);
      }
    }
    if (failing.length === 0 && flapping.length === 0) {
      return finding(this, 'pass', `${facts.nodesInScope.length} node(s) in scope Ready, network available`, {
        evidence,
      });
    }
    if (failing.length === 0) {
      return finding(this, 'warn', `node condition flapping on ${flapping.join(', ')}`, {
        evidence,
        nodes: verdicts,
      });
    }
    // A broken node matters when the incident names it, it hosts a backend, or the whole cluster is in question.
    const relevant = failing.filter(
      (n) => view.target.node === n || endpointNodes.has(n) || !view.target.service,
    );
    return finding(
      this,
      relevant.length > 0 ? 'fail' : 'warn',
      `${failing.length} node(s) not healthy: ${failing.slice(0, 5).join(', ')}`,
      {
        evidence,
        nodes: verdicts,
        ...(relevant.length > 0
          ? {
              suspect: {
                category: 'node_network' as const,
                score: view.target.node && relevant.includes(view.target.node) ? 0.85 : 0.7,
                detail: `node-level failure on ${relevant.join(', ')}: ${relevant.map((n) => verdicts[n]?.summary).join('; ')}`,
                nodes: relevant,
              },
            }
          : {}),
      },
    );
  },
};

function nodeProblems(node: Node): { short: string; evidence: string }[] {
  const out: { short: string; evidence: string }[] = [];
  const name = node.metadata.name;
  const ready = nodeCondition(node, 'Ready');
  if (ready?.status !== 'True') {
    out.push({
      short: `Ready=${ready?.status ?? 'missing'}`,
      evidence: `Node ${name}: Ready=${ready?.status ?? 'missing'}${ready?.reason ? ` reason=${ready.reason}` : ''}${ready?.message ? ` message="${ready.message}"` : ''}${ready?.lastTransitionTime ? ` since ${ready.lastTransitionTime}` : ''}`,
    });
  }
  const net = nodeCondition(node, 'NetworkUnavailable');
  if (net?.status === 'True') {
    out.push({
      short: 'NetworkUnavailable',
      evidence: `Node ${name}: NetworkUnavailable=True${net.reason ? ` reason=${net.reason}` : ''}${net.message ? ` message="${net.message}"` : ''}`,
    });
  }
  return out;
}

function flapCount(view: Parameters<Check['run']>[0], node: string): number {
  if (view.events.state === 'missing') return 0;
  const since = view.observedAt.getTime() - flapWindowMs;
  return view.events.value
    .filter(
      (e) =>
        e.involvedObject.kind === 'Node' &&
        e.involvedObject.name === node &&
        (e.reason === 'NodeNotReady' || e.reason === 'NodeReady'),
    )
    .filter((e) => Date.parse(e.lastTimestamp ?? e.eventTime ?? '') >= since)
    .reduce((n, e) => n + (e.count ?? 1), 0);
}
