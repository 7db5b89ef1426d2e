/**
 * Node churn (issue 18 §5, runbook 000's real incident): nodes that joined or left around
 * the incident, and the decision rule naming the affected nodes when they are the churned ones.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveFacts } from '../src/checks/lib/facts.js';
import { nodeChurn } from '../src/checks/node-churn.js';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import { missing } from '../src/cluster/collected.js';
import { diagnoseSource } from '../src/engine/engine.js';
import { bundlesDir } from './helpers/bundles.js';
import { BundleCopies, diagnoseDir, findingOf, n2 } from './helpers/edit-bundle.js';

const diagnoseExample = (name: string) => diagnoseSource(new BundleSource(path.join(bundlesDir, name)));

describe('node churn', () => {
  it('names the affected node as recently churned and applies the drain-and-replace rule to it', async () => {
    const d = await diagnoseExample('node-churn-stale-rules');
    const churn = findingOf(d, 'nodes.churn');
    expect(churn.status).toBe('info');
    expect(churn.nodes?.[n2]?.summary).toContain('joined 40 min before the observation');
    expect(churn.summary).toContain(
      '2 node(s) scaled down or being removed (ip-10-0-4-12.ec2.internal, ip-10-0-4-98.ec2.internal)',
    );
    expect(churn.evidence.join('\n')).toContain(
      'Event DisruptionTerminating Node/ip-10-0-4-12.ec2.internal (karpenter): Disrupting Node: Underutilized',
    );
    expect(d.mitigation.immediate).toContain(
      `${n2} (joined 40 min before the observation) is among the recently churned nodes`,
    );
    const drain = d.mitigation.actions.find((a) => a.id === 'drain-node');
    expect(drain?.when).toContain("recently churned node: the runbook's drain-and-replace rule");
  });

  it('passes when the churn is elsewhere, and the decision rule is not invoked', async () => {
    const d = await diagnoseExample('stale-endpoints');
    const churn = findingOf(d, 'nodes.churn');
    expect(churn.status).toBe('pass');
    expect(churn.summary).toContain(`the node(s) in scope (${n2}) are not among them`);
    expect(d.mitigation.immediate).not.toContain('recently churned');
  });

  it('is context, not a fault: a healthy cluster whose nodes just joined stays NONE', async () => {
    const copies = new BundleCopies();
    try {
      const dir = await copies.edit('healthy', async (b) => {
        const { collectedAt } = JSON.parse(await b.read('bundle.json')) as { collectedAt: string };
        const joined = new Date(Date.parse(collectedAt) - 20 * 60_000).toISOString();
        await b.json<{ items: { metadata: { creationTimestamp?: string } }[] }>('nodes.json', (list) => {
          for (const n of list.items) n.metadata.creationTimestamp = joined;
        });
      });
      const d = await diagnoseDir(dir);
      expect(findingOf(d, 'nodes.churn').status).toBe('info');
      expect(findingOf(d, 'nodes.churn').summary).toContain('among the recently churned');
      expect(d.rootCause.category).toBe('none');
      expect(d.severity).toBe('NONE');
    } finally {
      await copies.cleanup();
    }
  });

  it('passes when no node joined or left', async () => {
    const d = await diagnoseExample('healthy');
    expect(findingOf(d, 'nodes.churn').status).toBe('pass');
    expect(findingOf(d, 'nodes.churn').summary).toMatch(/^no node joined or left in the 6 h before/);
  });

  it('is unknown without nodes or events, never a pass', async () => {
    const view = await new BundleSource(path.join(bundlesDir, 'healthy')).load();
    const blind = {
      ...view,
      nodes: missing('forbidden: list nodes'),
      events: missing('forbidden: list events'),
    };
    const f = nodeChurn.run(blind, deriveFacts(blind));
    expect(f.status).toBe('unknown');
    expect(f.summary).toContain('forbidden: list nodes');
    const noEvents = { ...view, events: missing('forbidden: list events in default') };
    const g = nodeChurn.run(noEvents, deriveFacts(noEvents));
    expect(g.status).toBe('unknown');
    expect(g.summary).toContain('node events unknown (forbidden: list events in default)');
  });
});
