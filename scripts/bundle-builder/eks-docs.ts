/**
 * The EKS control-plane path of the example cluster, as the AWS CLI prints it
 * (`aws ec2 describe-instances`, `describe-security-groups`, `describe-subnets`,
 * `describe-network-acls`, `describe-route-tables`, `describe-nat-gateways`: the EC2 API
 * Reference's response elements in the CLI's PascalCase JSON). Audit events are in
 * eks-audit-docs.ts.
 */
import { nodeNames } from './model.js';

const vpcId = 'vpc-0123456789abcdef0';
export const account = '123456789012';
export const clusterSg = 'sg-0f1e2d3c4b5a69788';
export const natId = 'nat-0a1b2c3d4e5f60718';
export const natPublicIp = '198.51.100.23';

export const subnets = [
  { SubnetId: 'subnet-0a1b2c3d', CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' },
  { SubnetId: 'subnet-1b2c3d4e', CidrBlock: '10.0.2.0/24', AvailabilityZone: 'us-east-1b' },
  { SubnetId: 'subnet-2c3d4e5f', CidrBlock: '10.0.3.0/24', AvailabilityZone: 'us-east-1c' },
] as const;

const nodes = [
  { id: 'i-0a1b2c3d4e5f60718', ip: '10.0.1.23' },
  { id: 'i-0b2c3d4e5f6071829', ip: '10.0.2.45' },
  { id: 'i-0c3d4e5f607182930', ip: '10.0.3.67' },
];

type Json = Record<string, unknown>;

export interface Ec2State {
  /** Security groups of each node's instance, by node index. */
  nodeGroups: string[][];
  securityGroups: Json[];
  networkAcls: Json[];
  routeTables: Json[];
  /** Public IPs of the instances (public subnets only). */
  publicIps: (string | undefined)[];
}

function perm(
  protocol: string,
  from: number | undefined,
  to: number | undefined,
  src: { cidr?: string; group?: string; description?: string },
): Json {
  return {
    IpProtocol: protocol,
    ...(from === undefined ? {} : { FromPort: from, ToPort: to }),
    UserIdGroupPairs: src.group
      ? [
          {
            GroupId: src.group,
            UserId: account,
            ...(src.description ? { Description: src.description } : {}),
          },
        ]
      : [],
    IpRanges: src.cidr
      ? [{ CidrIp: src.cidr, ...(src.description ? { Description: src.description } : {}) }]
      : [],
    Ipv6Ranges: [],
    PrefixListIds: [],
  };
}

export function securityGroup(id: string, name: string, inbound: Json[], outbound: Json[]): Json {
  return {
    GroupId: id,
    GroupName: name,
    Description: name,
    OwnerId: account,
    VpcId: vpcId,
    IpPermissions: inbound,
    IpPermissionsEgress: outbound,
  };
}

export const rule = perm;

/** EKS's default cluster security group: all from itself, all out (EKS User Guide, sec-group-reqs). */
export function defaultClusterSg(): Json {
  return securityGroup(
    clusterSg,
    `eks-cluster-sg-prod-east-1234567890`,
    [perm('-1', undefined, undefined, { group: clusterSg })],
    [perm('-1', undefined, undefined, { cidr: '0.0.0.0/0' })],
  );
}

function entry(
  n: number,
  egress: boolean,
  action: 'allow' | 'deny',
  protocol: string,
  cidr: string,
  ports?: [number, number],
): Json {
  return {
    CidrBlock: cidr,
    Egress: egress,
    Protocol: protocol,
    RuleAction: action,
    RuleNumber: n,
    ...(ports ? { PortRange: { From: ports[0], To: ports[1] } } : {}),
  };
}

export const aclEntry = entry;

/** The VPC's default ACL: allow all both ways, then the `*` deny-all entries. */
export function networkAcl(
  id: string,
  subnetIds: readonly string[],
  entries: Json[],
  isDefault = false,
): Json {
  return {
    Associations: subnetIds.map((s, i) => ({
      NetworkAclAssociationId: `aclassoc-0${i}${id.slice(-6)}`,
      NetworkAclId: id,
      SubnetId: s,
    })),
    Entries: [
      ...entries,
      entry(32767, true, 'deny', '-1', '0.0.0.0/0'),
      entry(32767, false, 'deny', '-1', '0.0.0.0/0'),
    ],
    IsDefault: isDefault,
    NetworkAclId: id,
    Tags: [],
    VpcId: vpcId,
    OwnerId: account,
  };
}

export function defaultAcl(subnetIds: readonly string[]): Json {
  return networkAcl(
    'acl-0d1e2f3a4b5c6d7e8',
    subnetIds,
    [entry(100, true, 'allow', '-1', '0.0.0.0/0'), entry(100, false, 'allow', '-1', '0.0.0.0/0')],
    true,
  );
}

/** Private subnets: the VPC's local route and a default route through the NAT gateway. */
export function privateRouteTable(subnetIds: readonly string[], natState = 'active'): Json {
  return {
    Associations: subnetIds.map((s, i) => ({
      Main: false,
      RouteTableAssociationId: `rtbassoc-0a1b2c3d4e5f6070${i}`,
      RouteTableId: 'rtb-0a1b2c3d4e5f60718',
      SubnetId: s,
      AssociationState: { State: 'associated' },
    })),
    PropagatingVgws: [],
    RouteTableId: 'rtb-0a1b2c3d4e5f60718',
    Routes: [
      {
        DestinationCidrBlock: '10.0.0.0/16',
        GatewayId: 'local',
        Origin: 'CreateRouteTable',
        State: 'active',
      },
      { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: natId, Origin: 'CreateRoute', State: natState },
    ],
    Tags: [],
    VpcId: vpcId,
    OwnerId: account,
  };
}

export function healthyEc2(): Ec2State {
  return {
    nodeGroups: [[clusterSg], [clusterSg], [clusterSg]],
    securityGroups: [defaultClusterSg()],
    networkAcls: [defaultAcl(subnets.map((s) => s.SubnetId))],
    routeTables: [privateRouteTable(subnets.map((s) => s.SubnetId))],
    publicIps: [undefined, undefined, undefined],
  };
}

/** The six `eks/ec2/*.json` files of a state. */
export function ec2Files(state: Ec2State): Map<string, Json> {
  const instances = nodes.map((n, i) => ({
    InstanceId: n.id,
    InstanceType: 'm6i.xlarge',
    PrivateDnsName: nodeNames[i],
    PrivateIpAddress: n.ip,
    ...(state.publicIps[i] ? { PublicIpAddress: state.publicIps[i] } : {}),
    SubnetId: subnets[i]?.SubnetId,
    VpcId: vpcId,
    State: { Code: 16, Name: 'running' },
    Placement: { AvailabilityZone: subnets[i]?.AvailabilityZone, Tenancy: 'default' },
    SecurityGroups: (state.nodeGroups[i] ?? []).map((g) => ({
      GroupId: g,
      GroupName: g === clusterSg ? 'eks-cluster-sg-prod-east-1234567890' : `nodes-${g.slice(-4)}`,
    })),
  }));
  return new Map<string, Json>([
    [
      'instances.json',
      {
        Reservations: instances.map((inst, i) => ({
          Groups: [],
          Instances: [inst],
          OwnerId: account,
          ReservationId: `r-0${i}1b2c3d4e5f60718`,
        })),
      },
    ],
    ['security-groups.json', { SecurityGroups: state.securityGroups }],
    [
      'subnets.json',
      {
        Subnets: subnets.map((s) => ({
          ...s,
          VpcId: vpcId,
          State: 'available',
          MapPublicIpOnLaunch: false,
          OwnerId: account,
          SubnetArn: `arn:aws:ec2:us-east-1:${account}:subnet/${s.SubnetId}`,
        })),
      },
    ],
    ['network-acls.json', { NetworkAcls: state.networkAcls }],
    ['route-tables.json', { RouteTables: state.routeTables }],
    [
      'nat-gateways.json',
      {
        NatGateways: [
          {
            CreateTime: '2025-03-02T11:20:00+00:00',
            NatGatewayAddresses: [
              {
                AllocationId: 'eipalloc-0a1b2c3d4e5f60718',
                NetworkInterfaceId: 'eni-0a1b2c3d4e5f60718',
                PrivateIp: '10.0.101.12',
                PublicIp: natPublicIp,
                IsPrimary: true,
                Status: 'succeeded',
              },
            ],
            NatGatewayId: natId,
            State: 'available',
            SubnetId: 'subnet-0f0e0d0c',
            VpcId: vpcId,
            ConnectivityType: 'public',
          },
        ],
      },
    ],
  ]);
}
