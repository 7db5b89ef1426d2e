/** One live diagnosis in a fresh process against a served bundle: prints time, requests and bytes. */
import { performance } from 'node:perf_hooks';
import { LiveSource } from '../src/cluster/live/live-source.js';
import type { NodeCaptureMode } from '../src/cluster/live/node-captures.js';
import { diagnose } from '../src/engine/engine.js';

const [kubeconfig, namespace, service, node, captures] = process.argv.slice(2);
if (!kubeconfig || !namespace || !service || !node)
  throw new Error('usage: live-once KUBECONFIG NS SERVICE NODE|- [CAPTURES]');
const source = new LiveSource({
  kubeconfigPath: kubeconfig,
  context: 'bundle',
  nodeCaptures: (captures ?? 'exec') as NodeCaptureMode,
});
const t0 = performance.now();
const view = await source.load({
  target: { namespace, service, ...(node === '-' ? {} : { node }) },
});
const d = diagnose(view);
const ms = performance.now() - t0;
console.log(
  JSON.stringify({
    ms: Math.round(ms),
    requests: source.http.stats.requests,
    bytes: source.http.stats.bytes,
    rootCause: d.rootCause.category,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
