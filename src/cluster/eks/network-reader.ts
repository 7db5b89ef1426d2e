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

async function readAll(
  bundle: MemoryBundle,
  sdk: Ec2,
  client: EC2Client,
  vpc: EksVpcConfig,
  instanceIds: readonly string[],
): Promise<void> {
  const write = (doc: Doc, body: Record<string, unknown>) =>
    bundle.set(ec2File(doc), { content: `${JSON.stringify(body, null, 4)}\n` });
  const fail = (doc: Doc, reason: string) => bundle.set(ec2File(doc), { missing: reason });
  const call = async <T>(doc: Doc, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (error) {
      fail(doc, awsFailure(ec2Documents[doc].action, error));
      return undefined;
    }
  };

  const instances = instanceIds.length
    ? await call('instances', () =>
        client.send(new sdk.DescribeInstancesCommand({ InstanceIds: [...instanceIds] })),
      )
    : { Reservations: [] };
  if (!instances) {
    for (const doc of ['securityGroups', 'subnets', 'networkAcls', 'routeTables', 'natGateways'] as const)
      fail(doc, 'not read: DescribeInstances failed, so the nodes’ groups and subnets are unknown');
    return;
  }
  write('instances', { Reservations: instances.Reservations ?? [] });
  const found = (instances.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  const nodeSubnets = unique(found.map((i) => i.SubnetId));
  const groupIds = unique([
    vpc.clusterSecurityGroupId,
    ...(vpc.securityGroupIds ?? []),
    ...found.flatMap((i) => (i.SecurityGroups ?? []).map((g) => g.GroupId)),
  ]);
  const subnetIds = unique([...(vpc.subnetIds ?? []), ...nodeSubnets]);
  const bySubnet = [{ Name: 'association.subnet-id', Values: nodeSubnets }];

  const [groups, subnets, acls, tables, mainTables] = await Promise.all([
    call('securityGroups', () => client.send(new sdk.DescribeSecurityGroupsCommand({ GroupIds: groupIds }))),
    call('subnets', () => client.send(new sdk.DescribeSubnetsCommand({ SubnetIds: subnetIds }))),
    call('networkAcls', () => client.send(new sdk.DescribeNetworkAclsCommand({ Filters: bySubnet }))),
    call('routeTables', () => client.send(new sdk.DescribeRouteTablesCommand({ Filters: bySubnet }))),
    // A subnet without its own route table uses the VPC's main one.
    vpc.vpcId
      ? call('routeTables', () =>
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
  if (groups) write('securityGroups', { SecurityGroups: groups.SecurityGroups ?? [] });
  if (subnets) write('subnets', { Subnets: subnets.Subnets ?? [] });
  if (acls) write('networkAcls', { NetworkAcls: acls.NetworkAcls ?? [] });
  if (!tables || !mainTables) {
    fail('natGateways', 'not read: DescribeRouteTables failed, so the NAT gateways in use are unknown');
    return;
  }
  const routeTables = [...(tables.RouteTables ?? [])];
  for (const t of mainTables.RouteTables ?? [])
    if (!routeTables.some((r) => r.RouteTableId === t.RouteTableId)) routeTables.push(t);
  write('routeTables', { RouteTables: routeTables });
  const natIds = unique(routeTables.flatMap((t) => (t.Routes ?? []).map((r) => r.NatGatewayId)));
  const nats = natIds.length
    ? await call('natGateways', () =>
        client.send(new sdk.DescribeNatGatewaysCommand({ NatGatewayIds: natIds })),
      )
    : { NatGateways: [] };
  if (nats) write('natGateways', { NatGateways: nats.NatGateways ?? [] });
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
