/**
 * Example incident for issue 18 §5 (runbook 000's real incident): node churn. The event
 * reasons and messages are the ones their recorders print: node-controller
 * (pkg/controller/nodelifecycle `RegisteredNode`, `RemovingNode`), Karpenter
 * (pkg/controllers/disruption/events `DisruptionTerminating` "Disrupting Node: …").
 */
import { at } from './logs.js';
import { collectedAt, kubeProxyPodOf, nodeNames, nodeOf } from './model.js';
import { event } from './objects.js';
import { type Scenario, scenarios } from './scenarios.js';

const [, n2] = nodeNames;
const ago = (seconds: number) => at(collectedAt, -seconds);

function staleEndpoints() {
  const s = scenarios.find((x) => x.name === 'stale-endpoints');
  if (!s) throw new Error('no scenario stale-endpoints');
  return s.build();
}

export const churnScenarios: Scenario[] = [
  {
    name: 'node-churn-stale-rules',
    summary:
      'Karpenter consolidated two nodes and launched ip-10-0-2-45 40 minutes before the incident; that new node DNATs to a deleted pod. The stale rules are on the recently churned node: the runbook says drain and replace it.',
    expected: {
      category: 'stale_endpoints',
      nodes: [n2],
      evidence: ['recently churned', 'DisruptionTerminating', 'joined 40 min before the observation'],
    },
    build() {
      const m = staleEndpoints();
      m.scenario = 'node-churn-stale-rules';
      nodeOf(m, n2).created = ago(2400);
      nodeOf(m, n2).readySince = ago(2370);
      kubeProxyPodOf(m, n2).startedAt = ago(2380);
      const karpenter = { component: 'karpenter' };
      const nodeController = { component: 'node-controller' };
      for (const [gone, when] of [
        ['ip-10-0-4-12.ec2.internal', 3420],
        ['ip-10-0-4-98.ec2.internal', 3240],
      ] as const) {
        m.defaultEvents.push(
          event(
            'default',
            { kind: 'Node', name: gone },
            'Normal',
            'DisruptionTerminating',
            'Disrupting Node: Underutilized',
            ago(when),
            ago(when),
            1,
            karpenter,
          ),
        );
      }
      m.defaultEvents.push(
        event(
          'default',
          { kind: 'Node', name: n2 },
          'Normal',
          'RegisteredNode',
          `Node ${n2} event: Registered Node ${n2} in Controller`,
          ago(2390),
          ago(2390),
          1,
          nodeController,
        ),
      );
      return m;
    },
  },
];
