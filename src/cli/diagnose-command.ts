/** `kproxy diagnose`: run the engine over a bundle and print the report. */
import { BundleSource } from '../cluster/bundle/bundle-source.js';
import { diagnoseSource } from '../engine/engine.js';
import { UsageError } from '../errors.js';
import { type Format, formats, render } from '../report/index.js';
import type { LiveOptionValues } from './live-options.js';
import { routeOption, type TargetOptions } from './options.js';
import { parseTarget } from './target.js';

export interface CommandIO {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

export interface DiagnoseOptions extends LiveOptionValues, TargetOptions {
  bundle?: string;
  format?: string;
  verbose?: boolean;
  color: boolean;
}

export async function diagnoseCommand(values: DiagnoseOptions, io: CommandIO): Promise<number> {
  if (!values.bundle && !values.context && !values.kubeconfig) {
    throw new UsageError('diagnose needs --bundle or --context (kproxy diagnose --help)');
  }
  if (values.bundle && (values.context || values.kubeconfig)) {
    throw new UsageError('--bundle and --context/--kubeconfig exclude each other');
  }
  if (values.bundle && values.eksCluster)
    throw new UsageError('--eks-cluster reads a live cluster; a bundle carries what collect read (eks/…)');
  const format = (values.format ?? 'text') as Format;
  if (!formats.includes(format))
    throw new UsageError(`--format "${values.format}": expected one of ${formats.join(', ')}`);
  if (values.clusterWide && values.service)
    throw new UsageError('--cluster-wide and --service exclude each other');
  if (values.clusterWide && values.from) throw new UsageError('--cluster-wide and --from exclude each other');
  const route = routeOption(values);
  if (values.clusterWide && route)
    throw new UsageError('--cluster-wide and --ingress/--httproute exclude each other');
  const target = parseTarget(values.service, values.node, values.from, route);
  const request = { ...(target ? { target } : {}), clusterWide: values.clusterWide ?? false };
  // The live client (@kubernetes/client-node, the AWS SDK) loads only for a live diagnosis.
  const source = values.bundle
    ? new BundleSource(values.bundle)
    : (await import('./live-options.js')).liveSourceFrom(values);
  const diagnosis = await diagnoseSource(source, request);
  const color =
    format === 'text' && values.color && io.env.NO_COLOR === undefined && io.stdout.isTTY === true;
  io.stdout.write(render(diagnosis, format, { color, verbose: values.verbose ?? false }));
  return 0;
}
