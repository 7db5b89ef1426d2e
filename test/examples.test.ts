/**
 * Every example bundle, through the real BundleSource and engine: the expected root
 * cause, the affected nodes, and the evidence an SRE would look for.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { rootCauseCategories } from '../src/checks/types.js';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import type { Diagnosis } from '../src/engine/diagnosis.js';
import { diagnoseSource } from '../src/engine/engine.js';
import { blockKitLimits, renderBlocks } from '../src/report/blocks.js';
import { renderText } from '../src/report/text.js';
import { renderSopYaml } from '../src/report/yaml.js';
import { bundlesDir, type Expected, expectations } from './helpers/bundles.js';

/** Names are needed synchronously by it.each, before beforeAll runs. */
const scenarioNames = readdirSync(bundlesDir).sort();
let expected: Record<string, Expected>;
const diagnoses = new Map<string, Diagnosis>();

beforeAll(async () => {
  expected = await expectations();
  for (const name of Object.keys(expected)) {
    diagnoses.set(name, await diagnoseSource(new BundleSource(path.join(bundlesDir, name))));
  }
});

describe('example bundles', () => {
  it('cover every root-cause category, with at least 14 scenarios', () => {
    const covered = new Set(Object.values(expected).map((e) => e.category));
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(14);
    for (const category of rootCauseCategories) expect(covered, category).toContain(category);
  });

  it.each(scenarioNames)('%s: root cause, nodes and evidence', (name) => {
    const d = diagnoses.get(name) as Diagnosis;
    const e = expected[name] as Expected;
    expect(d.rootCause.category).toBe(e.category);
    expect([...d.rootCause.nodes]).toEqual(e.nodes);
    const text = JSON.stringify([d.rootCause, d.findings]);
    for (const quote of e.evidence) expect(text, `evidence "${quote}"`).toContain(quote);
    if (e.category === 'none' || e.category === 'inconclusive') {
      expect(d.ranking).toEqual([]);
      expect(d.mitigation.actions).toEqual([]);
      expect(d.verdict).toBe(e.category === 'none' ? 'decisive' : 'inconclusive');
    } else {
      expect(d.verdict).toBe('decisive');
      expect(d.ranking[0]?.category).toBe(e.category);
      expect(d.severity).not.toBe('NONE');
    }
  });

  it('every finding of every example has a known status and names its check', () => {
    for (const d of diagnoses.values()) {
      for (const f of d.findings) {
        expect(['pass', 'warn', 'fail', 'unknown', 'skip', 'info']).toContain(f.status);
        expect(f.check).toMatch(/^[a-z-]+\.[a-z-]+$/);
        expect(f.summary.length).toBeGreaterThan(0);
      }
    }
  });

  it('follows the output contract of bundle-format.md', () => {
    for (const d of diagnoses.values()) {
      const json = JSON.parse(JSON.stringify(d)) as Record<string, unknown>;
      for (const key of [
        'cluster',
        'target',
        'rootCause',
        'ranking',
        'kubeProxy',
        'severity',
        'verdict',
        'missing',
        'findings',
        'mitigation',
      ])
        expect(json).toHaveProperty(key);
      expect(['decisive', 'inconclusive']).toContain(d.verdict);
      if (d.verdict === 'inconclusive') expect(d.mitigation.actions).toEqual([]);
      expect(['iptables', 'ipvs', 'nftables', 'unknown']).toContain(d.kubeProxy.mode);
      for (const a of d.mitigation.actions) expect(['YELLOW', 'RED']).toContain(a.safety);
    }
  });

  it('renders every example in every format within Block Kit limits', () => {
    for (const d of diagnoses.values()) {
      expect(renderText(d)).toContain(d.rootCause.category);
      const sop = parseYaml(renderSopYaml(d)) as Record<string, unknown>;
      expect(String(sop.root_cause)).toMatch(new RegExp(`^${d.rootCause.category} — `));
      expect(sop).toHaveProperty('kube_proxy_mode', d.kubeProxy.mode);
      const { blocks, text } = renderBlocks(d);
      expect(text.length).toBeGreaterThan(0);
      expect(blocks.length).toBeLessThanOrEqual(blockKitLimits.blocks);
      for (const b of blocks) {
        const t = (b as { text?: { text?: string } }).text?.text;
        if (t) expect(t.length).toBeLessThanOrEqual(blockKitLimits.sectionText);
      }
    }
  });
});
