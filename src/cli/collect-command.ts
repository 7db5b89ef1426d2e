/** `kproxy collect`: write an incident bundle from a live cluster. */
import { writeBundle } from '../cluster/bundle/write.js';
import { UsageError } from '../errors.js';
import { parseOrUsage } from './args.js';
import type { CommandIO } from './diagnose-command.js';
import { liveOptionSpecs, liveOptionsUsage, liveSourceFrom } from './live-options.js';
import { parseTarget, targetOptionSpecs } from './target.js';

export const collectUsage = `Usage: kproxy collect --context CTX --service NS/NAME [--node N] --out DIR|FILE.tar.gz [options]

Reads what a diagnosis of the Service needs from a live cluster and writes it as an
incident bundle (format v1), to attach to a ticket or diagnose later with --bundle.

Options:
  --service NS/NAME    the Service clients cannot reach
  --node NODE          a node where clients fail (its logs and captures are collected)
  --from NS/NAME       the failing client (Pod, Deployment, StatefulSet or DaemonSet): its pods,
                       namespace labels and NetworkPolicies are collected, and its node's captures
  --cluster-wide       no Service: kube-proxy health across the cluster
  --out PATH           a new directory, or a file ending in .tar.gz
${liveOptionsUsage}
  -h, --help           this help`;

export async function collectCommand(
  argv: string[],
  io: CommandIO & { stderr: NodeJS.WritableStream & { isTTY?: boolean } },
): Promise<number> {
  const { values } = parse(argv);
  if (values.help) {
    io.stdout.write(`${collectUsage}\n`);
    return 0;
  }
  if (!values.out) throw new UsageError(`collect needs --out\n\n${collectUsage}`);
  if (!values.service && !values['cluster-wide'])
    throw new UsageError('collect needs --service NS/NAME (or --cluster-wide)');
  const target = parseTarget(values.service, values.node, values.from);
  const progress = progressReporter(io.stderr);
  const source = liveSourceFrom(values, progress.step);
  const { bundle } = await source.collect({
    ...(target ? { target } : {}),
    clusterWide: values['cluster-wide'] ?? false,
  });
  progress.step(`Writing ${values.out}`);
  const written = await writeBundle(bundle, values.out);
  progress.done();
  const missing = Object.entries(written.notCollected);
  io.stdout.write(
    `wrote ${written.path}: ${written.files} files, ${(written.bytes / 1024).toFixed(0)} KiB, ${source.http.stats.requests} API requests\n`,
  );
  if (missing.length > 0) {
    io.stdout.write(
      `not collected (${missing.length}):\n${missing.map(([file, why]) => `  ${file}: ${why}`).join('\n')}\n`,
    );
  }
  return 0;
}

/** Steps on one rewritten line on a terminal, one line each otherwise. */
function progressReporter(out: NodeJS.WritableStream & { isTTY?: boolean }) {
  let n = 0;
  const started = Date.now();
  return {
    step(text: string) {
      n++;
      const line = `[${n}] ${text} (${((Date.now() - started) / 1000).toFixed(1)}s)`;
      out.write(out.isTTY ? `\r\u001b[2K${line}` : `${line}\n`);
    },
    done() {
      if (out.isTTY) out.write('\n');
    },
  };
}

function parse(argv: string[]) {
  return parseOrUsage(
    {
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...targetOptionSpecs,
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...liveOptionSpecs,
      },
    },
    collectUsage,
  );
}
