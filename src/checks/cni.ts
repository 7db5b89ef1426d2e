import { isPodReady, podNode, podProblems } from './lib/pods.js';
import type { Check, NodeVerdict } from './types.js';
import { finding } from './types.js';

const podEniAnnotation = 'vpc.amazonaws.com/pod-eni';

/**
 * CNI agent (aws-node, calico-node, cilium, …) health on the nodes in scope. Carries the
 * runbook's guardrail: POD_SECURITY_GROUP_ENFORCING_MODE only affects pods that use
 * security groups for pods (annotated vpc.amazonaws.com/pod-eni); it is never blamed
 * for other pods.
 */
export const cniAgent: Check = {
  id: 'cni.agent',
  domain: 'cni',
  title: 'CNI agent healthy on the nodes in scope',
  run(view, facts) {
    if (view.cniPods.state === 'missing')
      return finding(this, 'unknown', `cannot read CNI pods: ${view.cniPods.reason}`);
    const evidence = podSecurityGroupNote(view, facts);
    if (view.cniPods.value.length === 0)
      return finding(this, 'skip', 'no known CNI agent DaemonSet in kube-system', { evidence });
    const byNode = new Map<string, typeof view.cniPods.value>();
    for (const pod of view.cniPods.value) {
      const node = podNode(pod);
      if (node) byNode.set(node, [...(byNode.get(node) ?? []), pod]);
    }
    const verdicts: Record<string, NodeVerdict> = {};
    const failing: string[] = [];
    for (const node of facts.nodesInScope) {
      const pods = byNode.get(node) ?? [];
      if (pods.length === 0) continue;
      const bad = pods.filter((p) => !isPodReady(p));
      if (bad.length === 0) {
        verdicts[node] = { status: 'pass', summary: `${pods.map((p) => p.metadata.name).join(', ')} Ready` };
        continue;
      }
      const problems = bad.flatMap(podProblems);
      verdicts[node] = { status: 'fail', summary: problems.map((p) => p.reason).join(', ') || 'not Ready' };
      evidence.push(...problems.map((p) => `${p.evidence} (node ${node})`));
      failing.push(node);
    }
    if (failing.length > 0) {
      return finding(this, 'fail', `CNI agent not Ready on ${failing.slice(0, 5).join(', ')}`, {
        evidence: evidence.slice(0, 12),
        nodes: verdicts,
        suspect: {
          category: 'node_network',
          score: 0.7,
          detail: `CNI agent not Ready on ${failing.join(', ')}: pod networking on the node(s) is impaired while kube-proxy rules may be fine`,
          nodes: failing,
        },
      });
    }
    if (Object.keys(verdicts).length === 0)
      return finding(this, 'unknown', 'no CNI agent pod found on the nodes in scope', { evidence });
    return finding(this, 'pass', `CNI agent Ready on ${Object.keys(verdicts).length} node(s)`, { evidence });
  },
};

function podSecurityGroupNote(
  view: Parameters<Check['run']>[0],
  facts: Parameters<Check['run']>[1],
): string[] {
  if (view.systemDaemonSets.state === 'missing') return [];
  const awsNode = view.systemDaemonSets.value.find((d) => d.metadata.name === 'aws-node');
  const env = awsNode?.spec.template.spec.containers.flatMap((c) => c.env ?? []) ?? [];
  const mode = env.find((e) => e.name === 'POD_SECURITY_GROUP_ENFORCING_MODE')?.value;
  if (!mode) return [];
  const pods = facts.selectedPods.state === 'collected' ? facts.selectedPods.value : [];
  const sgp = pods.filter((p) => p.metadata.annotations?.[podEniAnnotation]).length;
  return [
    `aws-node POD_SECURITY_GROUP_ENFORCING_MODE=${mode}: affects only pods annotated ${podEniAnnotation}; ${sgp} of ${pods.length} backend pod(s) are${sgp === 0 ? ' not affected' : ''}`,
  ];
}
