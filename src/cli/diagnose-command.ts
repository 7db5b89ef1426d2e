/** `kproxy diagnose`: run the engine over a bundle and print the report. */
import { BundleSource } from '../cluster/bundle/bundle-source.js';
import { diagnoseSource } from '../engine/engine.js';
import { UsageError } from '../errors.js';
import { type Format, formats, render } from '../report/index.js';
import { parseOrUsage } from './args.js';
import { liveOptionSpecs, liveOptionsUsage, liveSourceFrom } from './live-options.js';
import { parseTarget, targetOptionSpecs } from './target.js';

export const diagnoseUsage = `Usage: kproxy diagnose --bundle DIR|FILE.tar.gz [options]
       kproxy diagnose --context CTX [--kubeconfig FILE] [options]

Runs the runbooks' checks over an incident bundle or a live cluster and reports the root cause.

Options:
  --bundle PATH        incident bundle: a directory or a .tar.gz (format v1)
${liveOptionsUsage}
  --service NS/NAME    the Service clients cannot reach (default: the bundle's target)
  --node NODE          a node where clients fail (default: the bundle's target, else the client's node)
  --from NS/NAME       the failing client (Pod, Deployment, StatefulSet or DaemonSet): NetworkPolicies
                       are evaluated for it, and its node scopes the per-node checks
  --cluster-wide       ignore the bundle's target: kube-proxy health on every node (or --node)
  --format FORMAT      text (default), json, yaml (the SOP output format), blocks (Slack Block Kit)
  --verbose            text format: show the evidence of passing checks too
  --no-color           text format: no ANSI colours (also when NO_COLOR is set or not a terminal)
  -h, --help           this help

Exit status: 0 when the diagnosis ran (whatever it found), 2 for bad arguments or an unreadable bundle.`;

export interface CommandIO {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

export async function diagnoseCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parse(argv);
  if (values.help) {
    io.stdout.write(`${diagnoseUsage}\n`);
    return 0;
  }
  if (!values.bundle && !values.context && !values.kubeconfig) {
    throw new UsageError(`diagnose needs --bundle or --context\n\n${diagnoseUsage}`);
  }
  if (values.bundle && (values.context || values.kubeconfig)) {
    throw new UsageError('--bundle and --context/--kubeconfig exclude each other');
  }
  const format = (values.format ?? 'text') as Format;
  if (!formats.includes(format))
    throw new UsageError(`--format "${values.format}": expected one of ${formats.join(', ')}`);
  if (values['cluster-wide'] && values.service)
    throw new UsageError('--cluster-wide and --service exclude each other');
  if (values['cluster-wide'] && values.from)
    throw new UsageError('--cluster-wide and --from exclude each other');
  const target = parseTarget(values.service, values.node, values.from);
  const request = { ...(target ? { target } : {}), clusterWide: values['cluster-wide'] ?? false };
  const source = values.bundle ? new BundleSource(values.bundle) : liveSourceFrom(values);
  const diagnosis = await diagnoseSource(source, request);
  const color =
    format === 'text' && !values['no-color'] && io.env.NO_COLOR === undefined && io.stdout.isTTY === true;
  io.stdout.write(render(diagnosis, format, { color, verbose: values.verbose ?? false }));
  return 0;
}

function parse(argv: string[]) {
  return parseOrUsage(
    {
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        bundle: { type: 'string' },
        ...targetOptionSpecs,
        format: { type: 'string' },
        verbose: { type: 'boolean' },
        'no-color': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...liveOptionSpecs,
      },
    },
    diagnoseUsage,
  );
}
