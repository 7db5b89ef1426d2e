// `npm run lab`: builds (or reuses) the binaries, starts the lab, prints the admin
// kubeconfig, and stops everything on SIGINT/SIGTERM, removing its directory.
// Options: --nodes N (default 3), --keep (keep the directory: logs, certificates).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLab, defaultBinDir } from './build.js';
import { type Lab, startLab } from './lab.js';

function parseArgs(argv: string[]): { nodes: number; keep: boolean } {
  let nodes = 3;
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--keep') keep = true;
    else if (arg === '--nodes') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 50)
        throw new Error('--nodes: expected a whole number from 1 to 50');
      nodes = n;
    } else throw new Error(`unknown argument ${JSON.stringify(arg)} (expected --nodes N or --keep)`);
  }
  return { nodes, keep };
}

async function main(): Promise<void> {
  const { nodes, keep } = parseArgs(process.argv.slice(2));
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const binDir = defaultBinDir(root);
  // Handlers first: a signal during start-up stops the lab as soon as it is up, so no
  // component outlives this process.
  let lab: Lab | undefined;
  let stopping = false;
  const stopAndExit = (l: Lab) =>
    l.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`lab: stopping failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`lab: ${signal}: stopping\n`);
    if (lab) void stopAndExit(lab);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  await buildLab(root, binDir);
  const started = Date.now();
  lab = await startLab({ binDir, nodes, keepDir: keep });
  if (stopping) return void stopAndExit(lab);
  process.stdout.write(
    `lab: up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${lab.server}, nodes ${lab.nodes.map((n) => `${n.name} (${n.ip})`).join(', ')}\n` +
      'lab: kube-system: the kube-proxy DaemonSet (the real kube-proxy on each node) and CoreDNS are Ready\n' +
      `lab: export KUBECONFIG=${lab.adminKubeconfig}\n` +
      `lab: logs in ${lab.dir}${keep ? '' : ' (removed on exit; --keep keeps them)'}; Ctrl-C stops it\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`lab: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
