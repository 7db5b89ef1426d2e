/** `kproxy config check FILE`: validate a configuration and print every problem with its key path. */
import { loadConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import type { CommandIO } from './diagnose-command.js';

export const configUsage = 'Usage: kproxy config check FILE';

export async function configCommand(argv: string[], io: CommandIO): Promise<number> {
  const [sub, file, ...rest] = argv;
  if (sub !== 'check' || !file || rest.length > 0) throw new UsageError(configUsage);
  const config = await loadConfig(file);
  io.stdout.write(
    `${file}: ok — ${config.clusters.length} cluster(s): ${config.clusters.map((c) => `${c.name} (${c.kubeconfig ? 'kubeconfig' : 'eks'}, ${c.channels.length} channel(s))`).join(', ')}\n`,
  );
  return 0;
}
