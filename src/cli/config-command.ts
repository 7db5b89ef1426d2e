/** `kproxy config check FILE`: validate a configuration and print every problem at once. */
import { loadConfig } from '../config/config.js';
import type { CommandIO } from './diagnose-command.js';

export async function configCheckCommand(file: string, io: CommandIO): Promise<number> {
  const config = await loadConfig(file);
  const kind = (c: (typeof config.clusters)[number]) =>
    c.kubeconfig ? 'kubeconfig' : c.eks ? 'eks' : 'in-cluster';
  io.stdout.write(
    `${file}: ok — ${config.clusters.length} cluster(s): ${config.clusters.map((c) => `${c.name} (${kind(c)}, ${c.channels.length} channel(s))`).join(', ')}\n`,
  );
  return 0;
}
