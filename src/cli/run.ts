/** The `kproxy` command: dispatch, and the one place errors become exit codes. */
import { describeError, KproxyError } from '../errors.js';
import { collectCommand } from './collect-command.js';
import { configCommand } from './config-command.js';
import { type CommandIO, diagnoseCommand } from './diagnose-command.js';
import { serveBundleCommand } from './serve-bundle-command.js';

export const mainUsage = `Usage: kproxy <command> [options]

Commands:
  diagnose       diagnose Service connectivity / kube-proxy from a bundle or a live cluster
  collect        write an incident bundle from a live cluster
  serve-bundle   serve a bundle as a Kubernetes API on loopback (demos, tests)
  config check   validate a bot configuration file
  help           this help

Run "kproxy <command> --help" for a command's options.`;

export interface MainIO extends CommandIO {
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Runs the CLI and returns the exit status; never throws, never prints a stack trace. */
export async function runCli(argv: string[], io: MainIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'diagnose':
        return await diagnoseCommand(rest, io);
      case 'collect':
        return await collectCommand(rest, io);
      case 'serve-bundle':
        return await serveBundleCommand(rest, io);
      case 'config':
        return await configCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(`${mainUsage}\n`);
        return command === undefined ? 2 : 0;
      default:
        io.stderr.write(`kproxy: unknown command "${command}"\n\n${mainUsage}\n`);
        return 2;
    }
  } catch (error) {
    io.stderr.write(`kproxy: ${describeError(error)}\n`);
    if (io.env.KPROXY_DEBUG && error instanceof Error) io.stderr.write(`${error.stack}\n`);
    return error instanceof KproxyError && error.code !== 'internal' ? 2 : 1;
  }
}
