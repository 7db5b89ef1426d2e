/** `kproxy collect`: write an incident bundle from a live cluster. */
import { writeBundle } from '../cluster/bundle/write.js';
import { UsageError } from '../errors.js';
import type { CommandIO } from './diagnose-command.js';
import { type LiveOptionValues, liveSourceFrom } from './live-options.js';
import { routeOption, type TargetOptions } from './options.js';
import { parseTarget } from './target.js';

export interface CollectOptions extends LiveOptionValues, TargetOptions {
  out?: string;
}

export async function collectCommand(
  values: CollectOptions,
  io: CommandIO & { stderr: NodeJS.WritableStream & { isTTY?: boolean } },
): Promise<number> {
  if (!values.out) throw new UsageError('collect needs --out DIR|FILE.tar.gz (kproxy collect --help)');
  const route = routeOption(values);
  if (!values.service && !route && !values.clusterWide)
    throw new UsageError(
      'collect needs --service NS/NAME, --ingress NS/NAME or --httproute NS/NAME (or --cluster-wide)',
    );
  const target = parseTarget(values.service, values.node, values.from, route);
  const progress = progressReporter(io.stderr);
  const source = liveSourceFrom(values, progress.step);
  const { bundle } = await source.collect({
    ...(target ? { target } : {}),
    clusterWide: values.clusterWide ?? false,
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
