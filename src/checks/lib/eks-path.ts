/**
 * One node's path to the EKS control plane, from the EC2 documents: the endpoint's
 * access settings, security groups both ways, the node subnet's network ACL and routes.
 * Each problem quotes the rule (group id, rule, CIDR) it comes from.
 */
import type { Collected } from '../../cluster/collected.js';
import {
  type EksNetwork,
  type EksVpcConfig,
  ec2Documents,
  type Instance,
  type NetworkAcl,
  type RouteTable,
  type SecurityGroup,
} from '../../cluster/eks/ec2-types.js';
import { cidrContains, cidrOverlaps } from './cidr.js';
import { aclOfSubnet, ephemeral, naclBlocks } from './eks-nacl.js';
import { bestRoute, publicEgress, quoteRoute, routeTableOf } from './eks-route.js';
import { admits, type Peer } from './eks-sg.js';

export interface NodePath {
  /** Problems on the node → API server path (what kube-proxy's watch needs). */
  readonly api: string[];
  /** Problems on the control plane → kubelet path (logs, exec, nodes/proxy). */
  readonly kubelet: string[];
  /** What could not be evaluated, naming the data or IAM action missing. */
  readonly unknown: string[];
  /** The rules that admit the path, for the evidence of a pass. */
  readonly allowed: string[];
}

class Missing extends Error {}

function need<T>(c: Collected<T>, doc: keyof typeof ec2Documents): T {
  if (c.state === 'collected') return c.value;
  throw new Missing(`${c.reason} (needs ${ec2Documents[doc].action})`);
}

export function instanceIdOf(providerID: string | null | undefined): string | undefined {
  return /^aws:\/\/\/[^/]*\/(i-[0-9a-f]+)$/.exec(providerID ?? '')?.[1];
}

export function evaluateNodePath(
  vpc: EksVpcConfig,
  net: EksNetwork,
  node: string,
  instanceId: string,
): NodePath {
  const out: NodePath = { api: [], kubelet: [], unknown: [], allowed: [] };
  try {
    const instance = need(net.instances, 'instances').find((i) => i.InstanceId === instanceId);
    if (!instance?.PrivateIpAddress || !instance.SubnetId) {
      out.unknown.push(`${node}: instance ${instanceId} is not in the DescribeInstances output`);
      return out;
    }
    if (vpc.endpointPrivateAccess === true) privatePath(vpc, net, node, instance, out);
    else publicPath(vpc, net, instance, out);
  } catch (error) {
    if (!(error instanceof Missing)) throw error;
    out.unknown.push(error.message);
  }
  return out;
}

function groupsById(all: readonly SecurityGroup[], ids: readonly string[]): SecurityGroup[] {
  const found = ids.map((id) => all.find((g) => g.GroupId === id));
  const absent = ids.filter((_, i) => !found[i]);
  if (absent.length > 0)
    throw new Missing(`security group(s) ${absent.join(', ')} not in DescribeSecurityGroups`);
  return found as SecurityGroup[];
}

/** With private access on, nodes in the VPC reach the control-plane ENIs in the cluster subnets. */
function privatePath(
  vpc: EksVpcConfig,
  net: EksNetwork,
  node: string,
  instance: Instance,
  out: NodePath,
): void {
  const ip = instance.PrivateIpAddress as string;
  const subnetId = instance.SubnetId as string;
  const cpIds = [vpc.clusterSecurityGroupId, ...(vpc.securityGroupIds ?? [])].filter((g): g is string => !!g);
  const nodeIds = (instance.SecurityGroups ?? []).map((g) => g.GroupId);
  const subnets = need(net.subnets, 'subnets');
  const cpCidrs = (vpc.subnetIds ?? []).map((id) => {
    const cidr = subnets.find((s) => s.SubnetId === id)?.CidrBlock;
    if (!cidr) throw new Missing(`cluster subnet ${id} not in DescribeSubnets`);
    return cidr;
  });
  const nodePeer: Peer = {
    groups: nodeIds,
    coveredBy: (c) => cidrContains(c, ip),
    label: `${node} (${ip}; ${nodeIds.join(', ') || 'no groups'})`,
  };
  const cpPeer: Peer = {
    groups: cpIds,
    coveredBy: (c) => cpCidrs.some((s) => cidrOverlaps(c, s)),
    label: `the control plane (${cpIds.join(', ')}; subnets ${cpCidrs.join(', ')})`,
  };
  const allGroups = need(net.securityGroups, 'securityGroups');
  securityGroupProblems(groupsById(allGroups, cpIds), groupsById(allGroups, nodeIds), nodePeer, cpPeer, out);

  // Traffic inside one subnet never crosses its ACL or leaves by a route.
  const peers = cpCidrs.filter((c) => !cidrContains(c, ip));
  if (peers.length === 0) return;
  const acl = aclOfSubnet(need(net.networkAcls, 'networkAcls'), subnetId);
  if (!acl) out.unknown.push(`no network ACL of subnet ${subnetId} in DescribeNetworkAcls`);
  else naclProblems(acl, peers, subnetId, out);
  const table = routeTableOf(need(net.routeTables, 'routeTables'), subnetId, instance.VpcId);
  if (!table) out.unknown.push(`no route table of subnet ${subnetId} in DescribeRouteTables`);
  else routeProblems(table, peers, subnetId, out);
}

/** AWS's minimum both ways: 443 nodes → control plane, 10250 control plane → nodes. */
function securityGroupProblems(
  cpGroups: SecurityGroup[],
  nodeGroups: SecurityGroup[],
  nodePeer: Peer,
  cpPeer: Peer,
  out: NodePath,
): void {
  const sg = (
    groups: SecurityGroup[],
    egress: boolean,
    port: number,
    peer: Peer,
    kind: 'api' | 'kubelet',
    what: string,
  ) => {
    const v = admits(groups, egress, port, peer);
    const dir = egress ? 'outbound' : 'inbound';
    if (v.status === 'pass') out.allowed.push(v.rule);
    else if (v.status === 'unknown') out.unknown.push(v.reason);
    else
      out[kind].push(
        `no ${dir} rule of ${groups.map((g) => g.GroupId).join(', ')} admits TCP ${port} ${egress ? 'to' : 'from'} ${peer.label} (${what}); its ${dir} rules: ${v.rules.slice(0, 4).join('; ') || 'none'}`,
      );
  };
  sg(cpGroups, false, 443, nodePeer, 'api', 'nodes → API server');
  sg(nodeGroups, true, 443, cpPeer, 'api', 'nodes → API server');
  sg(nodeGroups, false, 10250, cpPeer, 'kubelet', 'control plane → kubelet');
  sg(cpGroups, true, 10250, nodePeer, 'kubelet', 'control plane → kubelet');
}

function routeProblems(table: RouteTable, peers: readonly string[], subnetId: string, out: NodePath): void {
  for (const peer of peers) {
    const route = bestRoute(table, peer);
    if (!route)
      out.api.push(
        `${table.RouteTableId} (subnet ${subnetId}) has no route to ${peer}, where the control-plane interfaces are`,
      );
    else if (route.State === 'blackhole')
      out.api.push(`${quoteRoute(table, route)}: traffic to the control plane (${peer}) is dropped`);
    else out.allowed.push(quoteRoute(table, route));
  }
}

/** Public access only: the node's egress address must be in publicAccessCidrs. */
function publicPath(vpc: EksVpcConfig, net: EksNetwork, instance: Instance, out: NodePath): void {
  const subnetId = instance.SubnetId as string;
  const table = routeTableOf(need(net.routeTables, 'routeTables'), subnetId, instance.VpcId);
  if (!table) {
    out.unknown.push(`no route table of subnet ${subnetId} in DescribeRouteTables`);
    return;
  }
  const nats =
    net.natGateways.state === 'collected'
      ? net.natGateways.value
      : `${net.natGateways.reason} (needs ${ec2Documents.natGateways.action})`;
  const egress = publicEgress(table, instance, nats);
  if ('problem' in egress) {
    out.api.push(`private endpoint access is off and ${egress.problem}`);
    return;
  }
  const cidrs = vpc.publicAccessCidrs?.length ? vpc.publicAccessCidrs : ['0.0.0.0/0'];
  if ('unknown' in egress) {
    if (cidrs.includes('0.0.0.0/0')) out.allowed.push('publicAccessCidrs 0.0.0.0/0');
    else out.unknown.push(egress.unknown);
    return;
  }
  const admitting = cidrs.find((c) => cidrContains(c, egress.ip));
  if (admitting) out.allowed.push(`${egress.via} is in publicAccessCidrs ${admitting}`);
  else
    out.api.push(
      `private endpoint access is off and the nodes reach the public endpoint from ${egress.ip} (${egress.via}), which publicAccessCidrs [${cidrs.join(', ')}] does not admit`,
    );
}

function naclProblems(acl: NetworkAcl, peers: readonly string[], subnetId: string, out: NodePath): void {
  for (const peer of peers) {
    const drop = (
      egress: boolean,
      range: { from: number; to: number },
      kind: 'api' | 'kubelet',
      what: string,
    ) => {
      for (const b of naclBlocks(acl, egress, range, peer).slice(0, 2))
        out[kind].push(
          `${b.rule} drops TCP ${b.ports} ${egress ? 'to' : 'from'} ${peer} (${what}; subnet ${subnetId})`,
        );
    };
    drop(true, { from: 443, to: 443 }, 'api', 'nodes → API server');
    drop(false, ephemeral, 'api', 'API server replies on ephemeral ports');
    drop(false, { from: 10250, to: 10250 }, 'kubelet', 'control plane → kubelet');
    drop(true, ephemeral, 'kubelet', 'kubelet replies on ephemeral ports');
  }
}
