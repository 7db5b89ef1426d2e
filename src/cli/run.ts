/**
 * The `kproxy` command: subcommand dispatch, options and help by commander, and the one
 * place errors become exit codes. A bad flag is one line naming it (`kproxy diagnose:
 * unknown option '--bogus'`), never the whole usage; `--help` works at every level.
 */
import { Command, CommanderError } from 'commander';
import { describeError, KproxyError } from '../errors.js';
import { type CommandIO, type DiagnoseOptions, diagnoseCommand } from './diagnose-command.js';
import { addLiveOptions, addTargetOptions } from './options.js';
import type { ServeBundleOptions } from './serve-bundle-command.js';

// collect and serve-bundle load the live cluster client (@kubernetes/client-node, ~900
// modules), config check the bot's configuration schemas: each is imported when run, so
// `diagnose --bundle` starts without them.
const collectCommand = async (...args: Parameters<typeof import('./collect-command.js').collectCommand>) =>
  (await import('./collect-command.js')).collectCommand(...args);
const configCheckCommand = async (
  ...args: Parameters<typeof import('./config-command.js').configCheckCommand>
) => (await import('./config-command.js')).configCheckCommand(...args);
const serveBundleCommand = async (
  ...args: Parameters<typeof import('./serve-bundle-command.js').serveBundleCommand>
) => (await import('./serve-bundle-command.js')).serveBundleCommand(...args);

export interface MainIO extends CommandIO {
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

function program(io: MainIO, exit: (code: number) => void): Command {
  const root = new Command('kproxy')
    .description('Diagnose "pods healthy but the Service is dead" (kube-proxy, EndpointSlices, rules)')
    .usage('<command> [options]')
    .helpCommand('help [command]', 'help for a command')
    .showSuggestionAfterError(true);
  const configure = (c: Command) =>
    c.exitOverride().configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // One line, naming the command and the flag: "kproxy diagnose: unknown option '--x'".
      outputError: (s, write) =>
        write(`${commandPath(c)}: ${s.replace(/^error: /, '').replace(/\n(?=.)/g, ' ')}`),
    });
  const run = (action: () => Promise<number>) => async () => exit(await action());

  const diagnose = root
    .command('diagnose')
    .summary('diagnose Service connectivity / kube-proxy from a bundle or a live cluster')
    .description(
      "Runs the runbooks' checks over an incident bundle or a live cluster and reports the root cause.",
    )
    .usage(
      '--bundle DIR|FILE.tar.gz [options]\n       kproxy diagnose --context CTX [--kubeconfig FILE] [options]',
    )
    .option('--bundle <path>', 'incident bundle: a directory or a .tar.gz (format v1)');
  addLiveOptions(diagnose);
  addTargetOptions(
    diagnose,
    "default: the bundle's target",
    'NetworkPolicies are evaluated for it, and its node scopes the per-node checks',
  );
  diagnose
    .option(
      '--format <format>',
      'text (default), json, yaml (the SOP output format), blocks (Slack Block Kit)',
    )
    .option('--verbose', 'text format: show every check and its evidence, passing ones too')
    .option('--no-color', 'text format: no ANSI colours (also when NO_COLOR is set or not a terminal)')
    .addHelpText(
      'after',
      '\nExit status: 0 when the diagnosis ran (whatever it found), 2 for bad arguments or an unreadable bundle.',
    )
    .action(run(() => diagnoseCommand(diagnose.opts<DiagnoseOptions>(), io)));

  const collect = root
    .command('collect')
    .summary('write an incident bundle from a live cluster')
    .description(
      'Reads what a diagnosis of the Service needs from a live cluster and writes it as an incident bundle (format v1), to attach to a ticket or diagnose later with --bundle.',
    )
    .option('--out <path>', 'a new directory, or a file ending in .tar.gz');
  addTargetOptions(
    collect,
    'what the bundle is collected for',
    "its pods, namespace labels and NetworkPolicies are collected, and its node's captures",
  );
  addLiveOptions(collect);
  collect.action(run(() => collectCommand(collect.opts(), { ...io, stderr: io.stderr })));

  const serve = root
    .command('serve-bundle')
    .summary('serve a bundle as a Kubernetes API on loopback (demos, tests)')
    .description(
      'Serves the bundle as a read-only Kubernetes API on 127.0.0.1 (what the bundle did not collect answers 403) and writes a kubeconfig for it (context "bundle"). Then: kproxy diagnose --kubeconfig FILE --context bundle --node-captures debug-pod, or KUBECONFIG=FILE kubectl get pods -A (also -l, --field-selector, --chunk-size, logs, exec)',
    )
    .argument('<dir>', 'the bundle directory')
    .option('--port <port>', 'port (default: a free one)')
    .option('--kubeconfig-out <file>', 'where to write the kubeconfig', 'kproxy-bundle.kubeconfig');
  serve.action(run(() => serveBundleCommand(serve.args[0] as string, serve.opts<ServeBundleOptions>(), io)));

  const config = root.command('config').description('bot configuration files (config check FILE)');
  const check = config
    .command('check')
    .description('validate a bot configuration file: every problem at once, with its line and column')
    .argument('<file>', 'the YAML configuration (KPROXY_CONFIG)');
  check.action(run(() => configCheckCommand(check.args[0] as string, io)));

  for (const c of [root, diagnose, collect, serve, config, check]) configure(c);
  return root;
}

function commandPath(c: Command): string {
  const names: string[] = [];
  for (let at: Command | null = c; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** Runs the CLI and returns the exit status; never throws, never prints a stack trace. */
export async function runCli(argv: string[], io: MainIO): Promise<number> {
  let code = 0;
  const root = program(io, (c) => {
    code = c;
  });
  if (argv.length === 0) {
    root.outputHelp();
    return 2;
  }
  try {
    await root.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every other commander error was printed as one line.
      return error.exitCode === 0 ? 0 : 2;
    }
    io.stderr.write(`kproxy: ${describeError(error)}\n`);
    if (io.env.KPROXY_DEBUG && error instanceof Error) io.stderr.write(`${error.stack}\n`);
    return error instanceof KproxyError && error.code !== 'internal' ? 2 : 1;
  }
}
