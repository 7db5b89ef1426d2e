/**
 * Routes and the endpoint's access settings: a node reaches the private endpoint (the
 * control-plane network interfaces in the cluster's subnets) through its subnet's route
 * table, the public one through a NAT gateway or an internet gateway, from an address
 * `publicAccessCidrs` must admit (EKS User Guide, "Cluster API server endpoint").
 */
import type { Instance, NatGateway, Route, RouteTable } from '../../cluster/eks/ec2-types.js';
import { cidrContains, prefixLength } from './cidr.js';

export function routeTableOf(
  tables: readonly RouteTable[],
  subnetId: string,
  vpcId?: string | null,
): RouteTable | undefined {
  return (
    tables.find((t) => (t.Associations ?? []).some((a) => a.SubnetId === subnetId)) ??
    tables.find((t) => (!vpcId || t.VpcId === vpcId) && (t.Associations ?? []).some((a) => a.Main === true))
  );
}

export function quoteRoute(table: RouteTable, r: Route): string {
  const target =
    r.GatewayId ??
    r.NatGatewayId ??
    r.TransitGatewayId ??
    r.VpcPeeringConnectionId ??
    r.NetworkInterfaceId ??
    r.InstanceId ??
    r.VpcEndpointId ??
    '?';
  return `${table.RouteTableId} route ${r.DestinationCidrBlock ?? '?'} → ${target}${r.State ? ` (${r.State})` : ''}`;
}

/** The most specific route covering `destination`, as the VPC router picks it. */
export function bestRoute(table: RouteTable, destination: string): Route | undefined {
  return (table.Routes ?? [])
    .filter((r) => r.DestinationCidrBlock && cidrContains(r.DestinationCidrBlock, destination))
    .sort(
      (a, b) => prefixLength(b.DestinationCidrBlock ?? '') - prefixLength(a.DestinationCidrBlock ?? ''),
    )[0];
}

export type Egress =
  | { readonly ip: string; readonly via: string }
  | { readonly problem: string }
  | { readonly unknown: string };

/** Where a node's traffic to the public endpoint leaves the VPC from, by its default route. */
export function publicEgress(
  table: RouteTable,
  instance: Instance,
  natGateways: readonly NatGateway[] | string,
): Egress {
  const route = bestRoute(table, '0.0.0.0/0');
  if (!route)
    return { problem: `${table.RouteTableId} has no route to 0.0.0.0/0: no path to the public endpoint` };
  const quoted = quoteRoute(table, route);
  if (route.State === 'blackhole') return { problem: `${quoted}: the target is gone, traffic is dropped` };
  if (route.NatGatewayId) {
    if (typeof natGateways === 'string') return { unknown: `${quoted}: ${natGateways}` };
    const nat = natGateways.find((n) => n.NatGatewayId === route.NatGatewayId);
    const ip = nat?.NatGatewayAddresses?.find((a) => a.PublicIp)?.PublicIp;
    if (!ip) return { unknown: `${quoted}: the NAT gateway's public IP is not in DescribeNatGateways` };
    return { ip, via: `${quoted}, public IP ${ip}` };
  }
  if (route.GatewayId?.startsWith('igw-')) {
    if (!instance.PublicIpAddress)
      return {
        problem: `${quoted}, but ${instance.InstanceId} has no public IP: it cannot reach the public endpoint`,
      };
    return {
      ip: instance.PublicIpAddress,
      via: `${quoted}, instance public IP ${instance.PublicIpAddress}`,
    };
  }
  return { unknown: `${quoted}: the public source address behind this target is not readable` };
}
