/**
 * Runbook 000 §7 and root causes C and D: on EKS, is the path between the nodes and the
 * control plane open? Endpoint access and publicAccessCidrs, security groups both ways,
 * the node subnets' ACLs (ephemeral ports), routes. A blocked path is the cause of
 * kube-proxy's refused or timed-out watches, so it outranks that symptom.
 */
import { eksVpcConfigSchema } from '../cluster/eks/ec2-types.js';
import { nodeApi } from './api-connectivity.js';
import { evaluateNodePath, instanceIdOf, type NodePath } from './lib/eks-path.js';
import type { Facts } from './lib/facts.js';
import type { Check, NodeVerdict } from './types.js';
import { finding } from './types.js';

/** Watch failures a closed network path produces (an Unauthorized or Forbidden one it does not). */
const networkCauses = new Set(['connection refused', 'timeout', 'TLS handshake timeout', 'connection reset']);
const maxNodes = 20;

export const eksNetwork: Check = {
  id: 'eks.network',
  domain: 'api-connectivity',
  title: 'EKS node ↔ control-plane path (endpoint access, security groups, NACLs, routes)',
  run(view, facts) {
    const { cluster, network } = view.eks;
    if (cluster.state === 'missing')
      return cluster.reason.startsWith('not collected')
        ? finding(this, 'skip', 'not an EKS cluster (no eks/cluster.json)')
        : finding(this, 'unknown', `EKS DescribeCluster unreadable: ${cluster.reason}`);
    if (
      !network ||
      Object.values(network).every((d) => d.state === 'missing' && d.reason.startsWith('not collected'))
    )
      return finding(this, 'skip', 'EC2 network data not collected (eks/ec2/*.json)');
    const vpc = eksVpcConfigSchema().safeParse(cluster.value.cluster.resourcesVpcConfig ?? {});
    if (!vpc.success) return finding(this, 'unknown', 'eks/cluster.json has no readable resourcesVpcConfig');

    const verdicts: Record<string, NodeVerdict> = {};
    const blocked: { node: string; problem: string; watch: string | undefined }[] = [];
    const evidence: string[] = [];
    const unknown: string[] = [];
    const allowed = new Set<string>();
    // Collect reads the EC2 path of the affected nodes only: evaluate those in scope.
    const read =
      network.instances.state === 'collected'
        ? new Set(network.instances.value.map((i) => i.InstanceId))
        : undefined;
    const scoped = facts.nodesInScope
      .map((node) => ({ node, id: instanceIdOf(nodeProviderId(view, node)) }))
      .filter((n) => !read || (n.id && read.has(n.id)));
    if (scoped.length === 0)
      return finding(this, 'unknown', 'no node in scope has its EC2 instance in eks/ec2/instances.json');
    for (const { node, id } of scoped.slice(0, maxNodes)) {
      if (!id) {
        verdicts[node] = { status: 'unknown', summary: 'no EC2 instance id in spec.providerID' };
        unknown.push(`${node}: no EC2 instance id in spec.providerID`);
        continue;
      }
      const path = evaluateNodePath(vpc.data, network, node, id);
      for (const a of path.allowed) allowed.add(a);
      const watch = watchCause(node, view.observedAt, facts);
      verdicts[node] = nodeVerdict(path, watch);
      evidence.push(...path.api.map((p) => `${node}: ${p}`), ...path.kubelet.map((p) => `${node}: ${p}`));
      unknown.push(...path.unknown.map((u) => `${node}: ${u}`));
      for (const problem of path.api) blocked.push({ node, problem, watch });
    }
    return conclude(this, { verdicts, blocked, evidence, unknown, allowed: [...allowed] });
  },
};

function nodeProviderId(view: Parameters<Check['run']>[0], node: string): string | undefined {
  if (view.nodes.state === 'missing') return undefined;
  return view.nodes.value.find((n) => n.metadata.name === node)?.spec?.providerID ?? undefined;
}

/** The network-type cause of kube-proxy's current watch failure; `ok` when it watches fine; undefined when unreadable. */
function watchCause(node: string, observedAt: Date, facts: Facts): string | undefined {
  const r = nodeApi(node, observedAt, facts);
  if (r.verdict.status === 'unknown') return undefined;
  if (r.verdict.status !== 'fail') return 'ok';
  return r.cause && networkCauses.has(r.cause) ? r.cause : `other: ${r.cause ?? 'list/watch errors'}`;
}

function nodeVerdict(path: NodePath, watch: string | undefined): NodeVerdict {
  if (path.api.length > 0)
    return {
      status: watch === 'ok' || watch?.startsWith('other') ? 'warn' : 'fail',
      summary: `path to the API server blocked: ${path.api[0]}`,
    };
  if (path.unknown.length > 0) return { status: 'unknown', summary: path.unknown[0] ?? '' };
  if (path.kubelet.length > 0)
    return { status: 'warn', summary: `control plane → kubelet blocked: ${path.kubelet[0]}` };
  return { status: 'pass', summary: 'endpoint access, security groups, ACLs and routes admit the path' };
}

interface Outcome {
  verdicts: Record<string, NodeVerdict>;
  blocked: { node: string; problem: string; watch: string | undefined }[];
  evidence: string[];
  unknown: string[];
  allowed: string[];
}

function conclude(check: Check, o: Outcome) {
  const causing = o.blocked.filter((b) => b.watch !== 'ok' && !b.watch?.startsWith('other'));
  const nodes = [...new Set(causing.map((b) => b.node))].sort();
  // Prefer a node whose kube-proxy log shows the symptom: the cause seen with it.
  const first = causing.find((b) => b.watch !== undefined) ?? causing[0];
  if (first) {
    // A cause seen together with the symptom it explains outranks it (kube-proxy.api scores 0.9).
    const confirmed = first.watch !== undefined;
    return finding(
      check,
      'fail',
      `the node → API server path is blocked on ${nodes.length} node(s): ${first.problem}`,
      {
        evidence: [...o.evidence, ...o.unknown].slice(0, 12),
        nodes: o.verdicts,
        suspect: {
          category: 'api_connectivity',
          score: confirmed ? 0.95 : 0.8,
          detail: `kube-proxy on ${nodes.length === 1 ? nodes[0] : `${nodes.length} nodes`} cannot reach the EKS API server${confirmed ? ` (its watches fail: ${first.watch})` : ''}: ${first.problem}`,
          nodes,
        },
      },
    );
  }
  if (o.evidence.length > 0) {
    const summary =
      o.blocked.length > 0
        ? 'rules appear to block the API server path, yet kube-proxy watches without network errors: another rule or path (prefix list, second interface) may admit it'
        : 'the control plane cannot reach the kubelet on port 10250 (kubectl logs/exec and nodes/proxy fail; kube-proxy itself is not affected)';
    return finding(check, 'warn', summary, {
      evidence: [...o.evidence, ...o.unknown].slice(0, 12),
      nodes: o.verdicts,
    });
  }
  if (o.unknown.length > 0)
    return finding(check, 'unknown', `cannot evaluate the node → control-plane path: ${o.unknown[0]}`, {
      evidence: o.unknown.slice(0, 8),
      nodes: o.verdicts,
    });
  return finding(
    check,
    'pass',
    'endpoint access, security groups, ACLs and routes admit the node ↔ control-plane path',
    {
      evidence: o.allowed.slice(0, 8),
      nodes: o.verdicts,
    },
  );
}
