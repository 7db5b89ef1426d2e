/** `kproxy serve-bundle`: serve an incident bundle as a Kubernetes API on loopback (demos, tests). */
import { writeFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { BundleApiServer } from '../testserver/bundle-api-server.js';
import type { CommandIO } from './diagnose-command.js';

export interface ServeBundleOptions {
  port?: string;
  kubeconfigOut: string;
}

export async function serveBundleCommand(
  dir: string,
  options: ServeBundleOptions,
  io: CommandIO,
  signal?: AbortSignal,
): Promise<number> {
  const port = options.port === undefined ? 0 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port "${options.port}": expected 0-65535`);
  const server = new BundleApiServer(dir, { port });
  const url = await server.start();
  const kubeconfig = options.kubeconfigOut;
  await writeFile(kubeconfig, server.kubeconfig());
  io.stdout.write(
    `serving ${dir} at ${url}\nkubeconfig: ${kubeconfig} (context "bundle")\ntry: kproxy diagnose --kubeconfig ${kubeconfig} --context bundle --node-captures debug-pod\n`,
  );
  await new Promise<void>((resolve) => {
    if (signal) signal.addEventListener('abort', () => resolve(), { once: true });
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.stop();
  io.stdout.write(`served ${server.requests.length} requests\n`);
  return 0;
}
