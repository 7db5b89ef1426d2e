/**
 * The report as an on-call engineer reads it, rendered from the example bundles (built from
 * what real tools print): the fault in words, what to do right after the cause, passing
 * checks on one line, human button labels, runbooks by name, times instead of epoch
 * seconds, and a timeline without days-old start-up lines (the timeline check's own rule).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import { diagnoseSource } from '../src/engine/engine.js';
import { renderBlocks } from '../src/report/blocks.js';
import { renderText } from '../src/report/text.js';
import { actionInWords, causeInWords, runbookInWords, timesInWords } from '../src/report/words.js';
import { bundlesDir } from './helpers/bundles.js';

const diagnose = (name: string) => diagnoseSource(new BundleSource(path.join(bundlesDir, name)));

describe('the text report', () => {
  it('says the fault in words and what to do right after the cause; passing checks on one line', async () => {
    const text = renderText(await diagnose('stale-endpoints'));
    const lines = text.split('\n');
    expect(lines[3]).toBe(
      'ROOT CAUSE  Stale kube-proxy rules on 1 node (stale_endpoints)   severity HIGH   verdict decisive',
    );
    const whatToDo = lines.indexOf('WHAT TO DO');
    expect(whatToDo).toBeGreaterThan(3);
    expect(whatToDo).toBeLessThan(10);
    expect(whatToDo).toBeLessThan(lines.indexOf('FINDINGS'));
    expect(text).toContain(
      '    1. Recreate kube-proxy on ip-10-0-2-45 [YELLOW, delete-kube-proxy-pod] — first',
    );
    expect(text).toContain('  See also: runbook D2, “kube-proxy iptables/IPVS sync issues”');
    // Passing checks: one line, not one each.
    expect(text).not.toContain('✓ pass    service.shape');
    expect(text).toMatch(/^ {2}✓ 16 check\(s\) pass: service\.shape, .*\(--verbose shows them\)$/m);
    expect(text.split('\n').length).toBeLessThan(40);
    const verbose = renderText(await diagnose('stale-endpoints'), { verbose: true });
    expect(verbose).toContain('✓ pass    service.shape');
  });

  it('has no start-up lines from days before the incident in the timeline', async () => {
    const text = renderText(await diagnose('stale-endpoints'));
    expect(text).not.toContain('"Using iptables Proxier"');
    expect(text).toContain('2026-11-22T09:08:00.000Z Event Normal RemovingNode');
  });

  it('shows epoch seconds of kube-proxy metrics as times', async () => {
    const text = renderText(await diagnose('iptables-xtables-lock'));
    expect(text).toContain(
      'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds 2026-11-22 09:47:00 UTC > last_timestamp_seconds 2026-11-22 09:44:48 UTC',
    );
    expect(text).not.toMatch(/timestamp_seconds \d{10}/);
  });
});

describe('the Slack report', () => {
  it('has a header in words, human button labels with the action id in the value, and passing checks on one line', async () => {
    const d = await diagnose('stale-endpoints');
    const refs = d.mitigation.actions.map((a) => `${a.id}.ref`);
    const { text, blocks } = renderBlocks(d, { actionRefs: refs });
    expect(JSON.stringify(blocks[0])).toContain('Stale kube-proxy rules on 1 node · prod-east');
    expect(text).toContain('stale_endpoints');
    const buttons = (
      blocks.find((b) => b.type === 'actions') as { elements: { text: { text: string }; value: string }[] }
    ).elements;
    expect(buttons.map((b) => [b.text.text, b.value])).toEqual([
      ['Recreate kube-proxy on ip-10-0-2-45', 'delete-kube-proxy-pod.ref'],
      ['Cordon ip-10-0-2-45', 'cordon-node.ref'],
      ['Drain ip-10-0-2-45', 'drain-node.ref'],
    ]);
    const sections = blocks.map((b) => JSON.stringify(b));
    expect(sections.filter((s) => s.includes(':white_check_mark: `')).length).toBe(0);
    expect(sections.some((s) => s.includes('22 other check(s) pass or do not apply'))).toBe(true);
    // What to do and the actions come before any evidence.
    const actions = blocks.findIndex((b) => b.type === 'actions');
    expect(actions).toBeLessThan(blocks.findIndex((b) => b.type === 'divider'));
    // 12, and the client's-eye probe's line (unknown here: the probe is off for this cluster).
    expect(blocks.length).toBeLessThanOrEqual(13);
    expect(sections.some((s) => s.includes("client's-eye probe not run: off for this cluster"))).toBe(true);
    // A post-fix check's message carries what to do and the actions only.
    const compact = renderBlocks(d, { actionRefs: refs, compact: true }).blocks;
    expect(compact.map((b) => b.type)).toEqual(['section', 'section', 'actions']);
  });
});

describe('words', () => {
  it('every category and action reads as words', () => {
    expect(causeInWords({ rootCause: { category: 'none', detail: '', nodes: [] } })).toBe('No fault found');
    expect(causeInWords({ rootCause: { category: 'conntrack', detail: '', nodes: ['a', 'b'] } })).toBe(
      'Conntrack table full on 2 nodes',
    );
    expect(causeInWords({ rootCause: { category: 'dns', detail: '', nodes: ['a'] } })).toBe(
      'Cluster DNS (CoreDNS) failing',
    );
    expect(actionInWords({ id: 'restart-kube-proxy' })).toBe('Restart kube-proxy on every node');
    expect(runbookInWords('D9 something')).toBe('D9 something');
    // Only metric timestamps become times, never counts.
    expect(timesInWords('rules 1795340820, sync_timestamp_seconds 1795340820')).toBe(
      'rules 1795340820, sync_timestamp_seconds 2026-11-22 09:47:00 UTC',
    );
  });
});
