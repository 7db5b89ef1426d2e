/**
 * The client's-eye probe in a bundle: `probe/<node>/matrix.txt`, the probe script's stdout
 * byte for byte (src/cluster/probe/matrix.ts), one directory per node it ran from. A node
 * whose probe could not run has the file "not collected" (bundle.json `notCollected`
 * gives why); a matrix that does not parse strictly is unreadable, never half-read.
 */
import { type Collected, collected, missing } from '../collected.js';
import { ProbeFormatError, type ProbeMatrix, parseProbeOutput } from '../probe/matrix.js';
import type { BundleFiles } from './files.js';

export const probeFile = (node: string) => `probe/${node}/matrix.txt`;

/** By node; empty when the bundle has no `probe/` (the probe was not enabled). */
export async function readProbes(dir: BundleFiles): Promise<ReadonlyMap<string, Collected<ProbeMatrix>>> {
  const probes = new Map<string, Collected<ProbeMatrix>>();
  for (const node of await dir.listDirs('probe')) {
    const text = await dir.readText(probeFile(node));
    probes.set(node, text.state === 'missing' ? text : parseMatrix(text.value, node));
  }
  return probes;
}

function parseMatrix(text: string, node: string): Collected<ProbeMatrix> {
  try {
    const matrix = parseProbeOutput(text);
    if (matrix.node !== node)
      return missing(`${probeFile(node)}: unreadable: the probe says it ran on ${matrix.node}`);
    return collected(matrix);
  } catch (error) {
    if (error instanceof ProbeFormatError) return missing(`${probeFile(node)}: unreadable: ${error.message}`);
    throw error;
  }
}
