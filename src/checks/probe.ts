/**
 * The client's-eye probe (runbooks 000 §2 §4, 003, 004's decision tree): what a pod on the
 * client's node saw when it tried the path. Evidence, not inference: the engine lets it
 * outrank what the rules and logs suggest (src/engine/probe-evidence.ts). `unknown` when
 * the probe is off for the cluster, was not permitted or could not run, naming why.
 */
import { type ProbeReading, probeMismatch, probeReadings, probeSite } from './lib/probe-reading.js';
import { type Check, finding, type NodeVerdict, type Suspect, worstStatus } from './types.js';

const id = 'probe.path';

export const probe: Check = {
  id,
  domain: 'probe',
  title: "Client's-eye probe",
  run(view) {
    const probes = view.probes ?? new Map<string, never>();
    if (probes.size === 0)
      return finding(
        probe,
        'unknown',
        "client's-eye probe not run: off for this cluster (probe: debug-pod in kproxy.yaml, or --probe debug-pod)",
      );
    const nodes: Record<string, NodeVerdict> = {};
    const evidence: string[] = [];
    const suspects: Suspect[] = [];
    for (const [node, p] of probes) {
      const other = p.state === 'collected' ? probeMismatch(p.value, view) : undefined;
      if (p.state === 'missing')
        nodes[node] = { status: 'unknown', summary: `probe did not run: ${p.reason}` };
      else if (other) nodes[node] = { status: 'unknown', summary: `not this target's probe: ${other}` };
    }
    for (const reading of probeReadings(view)) {
      const verdict = judge(reading);
      nodes[reading.node] = { status: verdict.status, summary: verdict.summary };
      evidence.push(`${probeSite(reading.matrix)}: ${reading.line}`);
      if (verdict.suspect) suspects.push(verdict.suspect);
    }
    const status = worstStatus(Object.values(nodes).map((v) => v.status));
    const worst = Object.entries(nodes).find(([, v]) => v.status === status);
    const suspect = suspects.sort((a, b) => b.score - a.score)[0];
    const summary = worst ? `${worst[0]}: ${worst[1].summary}` : 'no probe result';
    return finding(probe, status, summary, { evidence, nodes, ...(suspect ? { suspect } : {}) });
  },
};

function judge(r: ProbeReading): NodeVerdict & { suspect?: Suspect } {
  const nodes = [r.node];
  switch (r.kind) {
    case 'works':
      return { status: 'pass', summary: 'the path works from there: every address the probe tried answered' };
    case 'vip-fails': {
      const detail = `from ${r.node} the Service VIP does not answer while every endpoint answers directly: kube-proxy's rules for the Service on ${r.node} are missing or wrong (client's-eye probe)`;
      return {
        status: 'fail',
        summary: 'the VIP fails, every endpoint answers directly (kube-proxy on this node)',
        suspect: { category: 'stale_endpoints', score: 0.97, detail, nodes },
      };
    }
    case 'all-fail': {
      const api =
        r.apiOk === true
          ? '; the API server answers, so look at the backends’ side (their nodes, CNI, NetworkPolicies)'
          : '';
      return {
        status: 'fail',
        summary: `neither the VIP nor any endpoint answers (node or network)${api}`,
        suspect: {
          category: 'node_network',
          score: r.apiOk === true ? 0.8 : 0.9,
          detail: `from ${r.node} neither the Service VIP nor any endpoint answers directly: node or network, not kube-proxy alone (client's-eye probe)${api}`,
          nodes,
        },
      };
    }
    case 'dns-fails':
      return {
        status: 'fail',
        summary: "the Service's name does not resolve to its ClusterIP while the VIP answers (DNS)",
        suspect: {
          category: 'dns',
          score: 0.9,
          detail: `from ${r.node} the Service's name does not resolve to its ClusterIP while the VIP answers (client's-eye probe)`,
          nodes: [],
        },
      };
    case 'mixed':
      return { status: 'warn', summary: `some paths fail: ${r.line}` };
  }
}
