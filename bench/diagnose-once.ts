/**
 * One measured diagnosis in a fresh process (so peak RSS belongs to it alone):
 * prints JSON with load/diagnose times, peak RSS and the bytes the source read.
 */
import { performance } from 'node:perf_hooks';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import { diagnose } from '../src/engine/engine.js';

const [bundle, mode] = process.argv.slice(2);
if (!bundle) throw new Error('usage: diagnose-once BUNDLE [cluster-wide]');
const source = new BundleSource(bundle);
const t0 = performance.now();
const view = await source.load({ clusterWide: mode === 'cluster-wide' });
const t1 = performance.now();
const d = diagnose(view);
const t2 = performance.now();
await source.close();
console.log(
  JSON.stringify({
    loadMs: Math.round(t1 - t0),
    diagnoseMs: Math.round(t2 - t1),
    totalMs: Math.round(t2 - t0),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    rootCause: d.rootCause.category,
    findings: d.findings.length,
  }),
);
