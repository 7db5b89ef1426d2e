/**
 * Worker CPU per diagnosis: in one long-lived process, as the diagnose worker runs them,
 * N live diagnoses of a Service (a new LiveSource per job, as defaultSourceFor builds it,
 * then the engine and the Slack report) against a cluster served by the test API server
 * in another process (its CPU is not counted). Prints CPU per diagnosis (user + system,
 * median). Connections are reused across jobs (one keep-alive pool per cluster,
 * cluster-agent.ts; test/kube-http.test.ts counts them).
 *
 * usage: tsx bench/worker-cpu.ts KUBECONFIG NAMESPACE SERVICE [NODE|-] [CAPTURES] [RUNS]
 */
import { LiveSource } from '../src/cluster/live/live-source.js';
import type { NodeCaptureMode } from '../src/cluster/live/node-captures.js';
import { diagnose } from '../src/engine/engine.js';
import { renderBlocks } from '../src/report/blocks.js';

const [kubeconfig, namespace, service, node, captures, runsArg] = process.argv.slice(2);
if (!kubeconfig || !namespace || !service)
  throw new Error('usage: worker-cpu KUBECONFIG NS SERVICE [NODE|-] [CAPTURES] [RUNS]');
const runs = Number(runsArg ?? 20);
const target = { namespace, service, ...(node && node !== '-' ? { node } : {}) };

async function once(): Promise<{ cpuMs: number; requests: number }> {
  const before = process.cpuUsage();
  const source = new LiveSource({
    kubeconfigPath: kubeconfig,
    context: 'bundle',
    nodeCaptures: (captures ?? 'exec') as NodeCaptureMode,
  });
  const d = diagnose(await source.load({ target }));
  renderBlocks(d);
  const used = process.cpuUsage(before);
  return { cpuMs: (used.user + used.system) / 1000, requests: source.http.stats.requests };
}

// Warm-up: module compilation and the first connections are start-up, not per diagnosis.
for (let i = 0; i < 3; i++) await once();
const samples: number[] = [];
let requests = 0;
for (let i = 0; i < runs; i++) {
  const r = await once();
  samples.push(r.cpuMs);
  requests = r.requests;
}
samples.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    runs,
    medianCpuMs: Math.round((samples[Math.floor(runs / 2)] as number) * 10) / 10,
    p90CpuMs: Math.round((samples[Math.floor(runs * 0.9)] as number) * 10) / 10,
    requestsPerDiagnosis: requests,
  }),
);
