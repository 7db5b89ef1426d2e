/**
 * The EC2 and EKS documents the control-plane path check reads, as the AWS CLI prints
 * them (`aws ec2 describe-security-groups` …: the SDK's output shapes, PascalCase), and
 * the Kubernetes audit events EKS writes to CloudWatch Logs. Loose objects: fields kproxy
 * does not read pass through, fields it reads are validated. Each schema is built on its
 * first use (`securityGroupSchema()`): only a bundle with EKS documents needs them.
 */
import { z } from 'zod';
import { lazy } from '../../lazy.js';
import type { Collected } from '../collected.js';

const port = lazy(() => z.number().int().min(-1).max(65535));

export const ipPermissionSchema = lazy(() =>
  z.looseObject({
    /** `tcp`, `udp`, `icmp`, a protocol number, or `-1` (all). */
    IpProtocol: z.string(),
    FromPort: port().nullish(),
    ToPort: port().nullish(),
    IpRanges: z.array(z.looseObject({ CidrIp: z.string(), Description: z.string().nullish() })).nullish(),
    Ipv6Ranges: z.array(z.looseObject({ CidrIpv6: z.string(), Description: z.string().nullish() })).nullish(),
    UserIdGroupPairs: z
      .array(z.looseObject({ GroupId: z.string().nullish(), Description: z.string().nullish() }))
      .nullish(),
    PrefixListIds: z.array(z.looseObject({ PrefixListId: z.string() })).nullish(),
  }),
);

export const securityGroupSchema = lazy(() =>
  z.looseObject({
    GroupId: z.string(),
    GroupName: z.string().nullish(),
    VpcId: z.string().nullish(),
    IpPermissions: z.array(ipPermissionSchema()).nullish(),
    IpPermissionsEgress: z.array(ipPermissionSchema()).nullish(),
  }),
);

export const subnetSchema = lazy(() =>
  z.looseObject({
    SubnetId: z.string(),
    CidrBlock: z.string().nullish(),
    VpcId: z.string().nullish(),
  }),
);

export const networkAclEntrySchema = lazy(() =>
  z.looseObject({
    RuleNumber: z.number().int(),
    /** A protocol number as a string (`6` TCP, `17` UDP) or `-1` (all). */
    Protocol: z.string(),
    RuleAction: z.enum(['allow', 'deny']),
    Egress: z.boolean(),
    CidrBlock: z.string().nullish(),
    Ipv6CidrBlock: z.string().nullish(),
    PortRange: z.looseObject({ From: port().nullish(), To: port().nullish() }).nullish(),
  }),
);

export const networkAclSchema = lazy(() =>
  z.looseObject({
    NetworkAclId: z.string(),
    VpcId: z.string().nullish(),
    IsDefault: z.boolean().nullish(),
    Entries: z.array(networkAclEntrySchema()).nullish(),
    Associations: z.array(z.looseObject({ SubnetId: z.string().nullish() })).nullish(),
  }),
);

export const routeSchema = lazy(() =>
  z.looseObject({
    DestinationCidrBlock: z.string().nullish(),
    GatewayId: z.string().nullish(),
    NatGatewayId: z.string().nullish(),
    TransitGatewayId: z.string().nullish(),
    VpcPeeringConnectionId: z.string().nullish(),
    NetworkInterfaceId: z.string().nullish(),
    InstanceId: z.string().nullish(),
    VpcEndpointId: z.string().nullish(),
    /** `blackhole`: the target is gone (a deleted NAT gateway, a detached gateway). */
    State: z.string().nullish(),
  }),
);

export const routeTableSchema = lazy(() =>
  z.looseObject({
    RouteTableId: z.string(),
    VpcId: z.string().nullish(),
    Routes: z.array(routeSchema()).nullish(),
    Associations: z
      .array(z.looseObject({ Main: z.boolean().nullish(), SubnetId: z.string().nullish() }))
      .nullish(),
  }),
);

export const natGatewaySchema = lazy(() =>
  z.looseObject({
    NatGatewayId: z.string(),
    State: z.string().nullish(),
    NatGatewayAddresses: z
      .array(z.looseObject({ PublicIp: z.string().nullish(), PrivateIp: z.string().nullish() }))
      .nullish(),
  }),
);

export const instanceSchema = lazy(() =>
  z.looseObject({
    InstanceId: z.string(),
    PrivateIpAddress: z.string().nullish(),
    PublicIpAddress: z.string().nullish(),
    SubnetId: z.string().nullish(),
    VpcId: z.string().nullish(),
    SecurityGroups: z
      .array(z.looseObject({ GroupId: z.string(), GroupName: z.string().nullish() }))
      .nullish(),
  }),
);

/** The EC2 documents of a bundle, by file: `eks/ec2/<file>` holds `{ <key>: [...] }`. */
export const ec2Documents = {
  instances: { file: 'instances.json', key: 'Reservations', action: 'ec2:DescribeInstances' },
  securityGroups: {
    file: 'security-groups.json',
    key: 'SecurityGroups',
    action: 'ec2:DescribeSecurityGroups',
  },
  subnets: { file: 'subnets.json', key: 'Subnets', action: 'ec2:DescribeSubnets' },
  networkAcls: { file: 'network-acls.json', key: 'NetworkAcls', action: 'ec2:DescribeNetworkAcls' },
  routeTables: { file: 'route-tables.json', key: 'RouteTables', action: 'ec2:DescribeRouteTables' },
  natGateways: { file: 'nat-gateways.json', key: 'NatGateways', action: 'ec2:DescribeNatGateways' },
} as const;

export const reservationSchema = lazy(() =>
  z.looseObject({ Instances: z.array(instanceSchema()).nullish() }),
);

/** DescribeCluster's `resourcesVpcConfig` and `logging`, the parts the path check reads. */
export const eksVpcConfigSchema = lazy(() =>
  z.looseObject({
    subnetIds: z.array(z.string()).nullish(),
    securityGroupIds: z.array(z.string()).nullish(),
    clusterSecurityGroupId: z.string().nullish(),
    vpcId: z.string().nullish(),
    endpointPublicAccess: z.boolean().nullish(),
    endpointPrivateAccess: z.boolean().nullish(),
    publicAccessCidrs: z.array(z.string()).nullish(),
  }),
);

export const eksLoggingSchema = lazy(() =>
  z.looseObject({
    clusterLogging: z
      .array(z.looseObject({ types: z.array(z.string()).nullish(), enabled: z.boolean().nullish() }))
      .nullish(),
  }),
);

/** A Kubernetes audit event (audit.k8s.io/v1 Event) as EKS writes it to kube-apiserver-audit streams. */
export const auditEventSchema = lazy(() =>
  z.looseObject({
    kind: z.literal('Event'),
    apiVersion: z.string(),
    stage: z.string().nullish(),
    verb: z.string(),
    auditID: z.string().nullish(),
    user: z
      .looseObject({
        username: z.string().nullish(),
        /** EKS: `arn`, `canonicalArn`, `sessionName` from the IAM identity (aws-iam-authenticator). */
        extra: z.record(z.string(), z.array(z.string())).nullish(),
      })
      .nullish(),
    objectRef: z
      .looseObject({
        resource: z.string().nullish(),
        namespace: z.string().nullish(),
        name: z.string().nullish(),
        apiGroup: z.string().nullish(),
      })
      .nullish(),
    responseStatus: z.looseObject({ code: z.number().nullish() }).nullish(),
    requestReceivedTimestamp: z.string().nullish(),
    stageTimestamp: z.string().nullish(),
  }),
);

export type IpPermission = z.infer<ReturnType<typeof ipPermissionSchema>>;
export type SecurityGroup = z.infer<ReturnType<typeof securityGroupSchema>>;
export type Subnet = z.infer<ReturnType<typeof subnetSchema>>;
export type NetworkAcl = z.infer<ReturnType<typeof networkAclSchema>>;
export type NetworkAclEntry = z.infer<ReturnType<typeof networkAclEntrySchema>>;
export type RouteTable = z.infer<ReturnType<typeof routeTableSchema>>;
export type Route = z.infer<ReturnType<typeof routeSchema>>;
export type NatGateway = z.infer<ReturnType<typeof natGatewaySchema>>;
export type Instance = z.infer<ReturnType<typeof instanceSchema>>;
export type EksVpcConfig = z.infer<ReturnType<typeof eksVpcConfigSchema>>;
export type AuditEvent = z.infer<ReturnType<typeof auditEventSchema>>;

/** What the path check reads, one document per EC2 call (each may be missing on its own). */
export interface EksNetwork {
  readonly instances: Collected<readonly Instance[]>;
  readonly securityGroups: Collected<readonly SecurityGroup[]>;
  readonly subnets: Collected<readonly Subnet[]>;
  readonly networkAcls: Collected<readonly NetworkAcl[]>;
  readonly routeTables: Collected<readonly RouteTable[]>;
  readonly natGateways: Collected<readonly NatGateway[]>;
}
