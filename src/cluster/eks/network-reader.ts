/**
 * Reads the EC2 side of the node → control-plane path into a bundle's `eks/ec2/*.json`,
 * as the AWS CLI prints it: the affected nodes' instances, the cluster and node security
 * groups, the subnets, the node subnets' network ACLs and route tables, and the NAT
 * gateways those routes use. `@aws-sdk/client-ec2` is imported only here, on first use,
 * so an offline diagnosis never loads it. A denied call leaves its file missing with the
 * reason, naming the IAM action.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { ec2File } from '../bundle/eks-extras.js';
import type { MemoryBundle } from '../bundle/memory.js';
import { type EksVpcConfig, ec2Documents } from './ec2-types.js';

type Ec2 = typeof import('@aws-sdk/client-ec2');
type Doc = keyof typeof ec2Documents;

export interface Ec2Options {
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  readonly endpoint?: string | undefined;
}

export async function readEc2Into(
  bundle: MemoryBundle,
  options: Ec2Options,
  vpc: EksVpcConfig,
  instanceIds: readonly string[],
): Promise<void> {
  const sdk: Ec2 = await import('@aws-sdk/client-ec2');
  const client = new sdk.EC2Client({
    region: options.region,
    credentials: options.credentials,
    maxAttempts: 3,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  try {
    await readAll(bundle, sdk, client, vpc, instanceIds);
  } finally {
    client.destroy();
  }
}

/** One document per call: written as the CLI prints it, or missing with the reason. */
class Ec2Reads {
  constructor(
    private readonly bundle: MemoryBundle,
    readonly sdk: Ec2,
    readonly client: EC2Client,
  ) {}

  write(doc: Doc, body: Record<string, unknown>): void {
    this.bundle.set(ec2File(doc), { content: `${JSON.stringify(body, null, 4)}\n` });
  }

  fail(doc: Doc, reason: string): void {
    this.bundle.set(ec2File(doc), { missing: reason });
  }

  async call<T>(doc: Doc, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (error) {
      this.fail(doc, awsFailure(ec2Documents[doc].action, error));
      return undefined;
    }
  }
}

async function readAll(
  bundle: MemoryBundle,
  sdk: Ec2,
  client: EC2Client,
  vpc: EksVpcConfig,
  instanceIds: readonly string[],
): Promise<void> {
  const r = new Ec2Reads(bundle, sdk, client);
  const instances = instanceIds.length
    ? await r.call('instances', () =>
        client.send(new sdk.DescribeInstancesCommand({ InstanceIds: [...instanceIds] })),
      )
    : { Reservations: [] };
  if (!instances) {
    for (const doc of ['securityGroups', 'subnets', 'networkAcls', 'routeTables', 'natGateways'] as const)
      r.fail(doc, "not read: DescribeInstances failed, so the nodes' groups and subnets are unknown");
    return;
  }
  r.write('instances', { Reservations: instances.Reservations ?? [] });
  const found = (instances.Reservations ?? []).flatMap((x) => x.Instances ?? []);
  const nodeSubnets = unique(found.map((i) => i.SubnetId));
  const groupIds = unique([
    vpc.clusterSecurityGroupId,
    ...(vpc.securityGroupIds ?? []),
    ...found.flatMap((i) => (i.SecurityGroups ?? []).map((g) => g.GroupId)),
  ]);
  const subnetIds = unique([...(vpc.subnetIds ?? []), ...nodeSubnets]);
  const bySubnet = [{ Name: 'association.subnet-id', Values: nodeSubnets }];
  const [groups, subnets, acls] = await Promise.all([
    r.call('securityGroups', () =>
      client.send(new sdk.DescribeSecurityGroupsCommand({ GroupIds: groupIds })),
    ),
    r.call('subnets', () => client.send(new sdk.DescribeSubnetsCommand({ SubnetIds: subnetIds }))),
    r.call('networkAcls', () => client.send(new sdk.DescribeNetworkAclsCommand({ Filters: bySubnet }))),
    readRoutes(r, vpc, bySubnet),
  ]);
  if (groups) r.write('securityGroups', { SecurityGroups: groups.SecurityGroups ?? [] });
  if (subnets) r.write('subnets', { Subnets: subnets.Subnets ?? [] });
  if (acls) r.write('networkAcls', { NetworkAcls: acls.NetworkAcls ?? [] });
}

/** The node subnets' route tables (and the VPC's main one), then the NAT gateways they use. */
async function readRoutes(
  r: Ec2Reads,
  vpc: EksVpcConfig,
  bySubnet: { Name: string; Values: string[] }[],
): Promise<void> {
  const { sdk, client } = r;
  const [tables, mainTables] = await Promise.all([
    r.call('routeTables', () => client.send(new sdk.DescribeRouteTablesCommand({ Filters: bySubnet }))),
    // A subnet without its own route table uses the VPC's main one.
    vpc.vpcId
      ? r.call('routeTables', () =>
          client.send(
            new sdk.DescribeRouteTablesCommand({
              Filters: [
                { Name: 'vpc-id', Values: [vpc.vpcId as string] },
                { Name: 'association.main', Values: ['true'] },
              ],
            }),
          ),
        )
      : Promise.resolve({ RouteTables: [] }),
  ]);
  if (!tables || !mainTables) {
    r.fail('natGateways', 'not read: DescribeRouteTables failed, so the NAT gateways in use are unknown');
    return;
  }
  const routeTables = [...(tables.RouteTables ?? [])];
  for (const t of mainTables.RouteTables ?? [])
    if (!routeTables.some((x) => x.RouteTableId === t.RouteTableId)) routeTables.push(t);
  r.write('routeTables', { RouteTables: routeTables });
  const natIds = unique(routeTables.flatMap((t) => (t.Routes ?? []).map((x) => x.NatGatewayId)));
  const nats = natIds.length
    ? await r.call('natGateways', () =>
        client.send(new sdk.DescribeNatGatewaysCommand({ NatGatewayIds: natIds })),
      )
    : { NatGateways: [] };
  if (nats) r.write('natGateways', { NatGateways: nats.NatGateways ?? [] });
}

function unique(values: readonly (string | null | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => !!v))].sort();
}

/** `ec2:DescribeNetworkAcls denied (UnauthorizedOperation): …`, or the error as the SDK names it. */
export function awsFailure(action: string, error: unknown): string {
  const e = error as { name?: string; message?: string };
  const name = e?.name ?? 'Error';
  const text = (e?.message ?? String(error)).split('\n')[0]?.slice(0, 300) ?? '';
  if (/UnauthorizedOperation|AccessDenied/.test(name))
    return `${action} denied (${name}): ${text} — grant ${action}`;
  return `${action} failed: ${name}: ${text}`;
}
