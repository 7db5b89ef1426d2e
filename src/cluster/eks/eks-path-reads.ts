/**
 * The EKS reads that follow the node reads: the EC2 path of the affected nodes and the
 * control-plane audit log around the incident (issue 18 parts 2 and 3).
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { instanceIdOf } from '../../checks/lib/eks-path.js';
import { ec2File } from '../bundle/eks-extras.js';
import type { MemoryBundle } from '../bundle/memory.js';
import type { Target } from '../view.js';
import { readAuditInto } from './audit-reader.js';
import { ec2Documents, eksVpcConfigSchema } from './ec2-types.js';
import { readEc2Into } from './network-reader.js';

export interface EksPathConfig {
  readonly name: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  readonly ec2Endpoint?: string | undefined;
  readonly logsEndpoint?: string | undefined;
}

export async function readEksPathInto(
  bundle: MemoryBundle,
  config: EksPathConfig,
  rawCluster: unknown,
  nodes: readonly string[],
  target: Target,
  until: Date,
): Promise<void> {
  await Promise.all([
    readNetwork(bundle, config, rawCluster, nodes),
    readAuditInto(
      bundle,
      {
        cluster: config.name,
        region: config.region,
        credentials: config.credentials,
        endpoint: config.logsEndpoint,
        until,
      },
      rawCluster,
      target,
    ),
  ]);
}

async function readNetwork(
  bundle: MemoryBundle,
  config: EksPathConfig,
  rawCluster: unknown,
  nodes: readonly string[],
): Promise<void> {
  const vpc = eksVpcConfigSchema().safeParse(
    (rawCluster as { resourcesVpcConfig?: unknown } | null)?.resourcesVpcConfig ?? {},
  );
  const ids = await instanceIds(bundle, nodes);
  if (!vpc.success || ids.length === 0) {
    const why = !vpc.success
      ? 'not read: DescribeCluster has no readable resourcesVpcConfig'
      : 'not read: no affected node has an EC2 instance id in spec.providerID';
    for (const doc of Object.keys(ec2Documents) as (keyof typeof ec2Documents)[])
      bundle.set(ec2File(doc), { missing: why });
    return;
  }
  await readEc2Into(
    bundle,
    { region: config.region, credentials: config.credentials, endpoint: config.ec2Endpoint },
    vpc.data,
    ids,
  );
}

/** Instance ids of the affected nodes, from the nodes.json the live source read. */
async function instanceIds(bundle: MemoryBundle, nodes: readonly string[]): Promise<string[]> {
  const doc = await bundle.readJson('nodes.json');
  if (doc.state === 'missing') return [];
  const items = ((doc.value as { items?: unknown[] }).items ?? []) as {
    metadata?: { name?: string };
    spec?: { providerID?: string };
  }[];
  return items
    .filter((n) => nodes.includes(n.metadata?.name ?? ''))
    .map((n) => instanceIdOf(n.spec?.providerID))
    .filter((id): id is string => !!id);
}
