/**
 * Example bundles recorded from the lab: with KPROXY_RECORD_EXAMPLES=1 (`npm run
 * examples:lab`), a fault test that has just diagnosed a real fault live also runs
 * `kproxy collect` as the worker, and the bundle it writes becomes examples/bundles/<name>
 * (replacing the previous recording). Otherwise nothing is written: the recorded
 * bundles are held to examples/expected.json by the unit suite like every example.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { kproxyCli } from './lab-helpers.js';

const examplesDir = path.resolve(import.meta.dirname, '..', '..', 'examples', 'bundles');

export const recording = process.env.KPROXY_RECORD_EXAMPLES === '1';

/** Writes the live cluster's view of `target` as the example `name` (lab-*), when recording. */
export async function recordExample(workerKubeconfig: string, name: string, target: string[]): Promise<void> {
  if (!recording) return;
  if (!name.startsWith('lab-')) throw new Error(`recorded examples are named lab-*: ${name}`);
  const out = path.join(examplesDir, name);
  await rm(out, { recursive: true, force: true });
  const args = ['collect', '--kubeconfig', workerKubeconfig, '--context', 'lab', '--node-captures', 'exec'];
  const r = await kproxyCli([...args, '--out', out, ...target]);
  if (r.code !== 0) throw new Error(`kproxy collect for ${name} failed: ${r.stderr || r.stdout}`);
}
