/** `kproxy serve-bundle`: serve an incident bundle as a Kubernetes API on loopback (demos, tests). */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { BundleApiServer } from '../testserver/bundle-api-server.js';
import type { CommandIO } from './diagnose-command.js';

export const serveBundleUsage = `Usage: kproxy serve-bundle DIR [--port P] [--kubeconfig-out FILE]

Serves the bundle as a read-only Kubernetes API on 127.0.0.1 (what the bundle did not
collect answers 403) and writes a kubeconfig for it (context "bundle"). Then:
  kproxy diagnose --kubeconfig FILE --context bundle --node-captures debug-pod

Options:
  --port P               port (default: a free one)
  --kubeconfig-out FILE  where to write the kubeconfig (default: ./kproxy-bundle.kubeconfig)
  -h, --help             this help`;

export async function serveBundleCommand(
  argv: string[],
  io: CommandIO,
  signal?: AbortSignal,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${serveBundleUsage}`);
  }
  if (parsed.values.help) {
    io.stdout.write(`${serveBundleUsage}\n`);
    return 0;
  }
  const [dir] = parsed.positionals;
  if (!dir || parsed.positionals.length > 1)
    throw new UsageError(`serve-bundle needs one bundle directory\n\n${serveBundleUsage}`);
  const port = parsed.values.port === undefined ? 0 : Number(parsed.values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port "${parsed.values.port}": expected 0-65535`);
  const server = new BundleApiServer(dir, { port });
  const url = await server.start();
  const kubeconfig = parsed.values['kubeconfig-out'] ?? 'kproxy-bundle.kubeconfig';
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

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'kubeconfig-out': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
