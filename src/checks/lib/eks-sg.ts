/**
 * Security-group evaluation for the EKS node ↔ control-plane path. The rules AWS
 * documents as the minimum ("Restricting cluster traffic", EKS User Guide
 * sec-group-reqs): TCP 443 from the nodes to the cluster security group, TCP 10250 from
 * it to the nodes (and DNS 53, not a kube-proxy concern). Security groups are stateful:
 * one direction's rule admits the replies.
 */
import type { IpPermission, SecurityGroup } from '../../cluster/eks/ec2-types.js';

/** Who is on the other side of a rule: its groups, and whether a CIDR covers it. */
export interface Peer {
  readonly groups: readonly string[];
  readonly coveredBy: (cidr: string) => boolean;
  readonly label: string;
}

export type RuleVerdict =
  | { readonly status: 'pass'; readonly rule: string }
  | { readonly status: 'fail'; readonly rules: readonly string[] }
  | { readonly status: 'unknown'; readonly reason: string };

const tcp = new Set(['-1', 'tcp', '6']);

function portMatches(p: IpPermission, port: number): boolean {
  if (p.IpProtocol === '-1') return true;
  if (!tcp.has(p.IpProtocol)) return false;
  const from = p.FromPort ?? -1;
  const to = p.ToPort ?? -1;
  return from === -1 || (from <= port && port <= to);
}

/** One line per source/destination of a rule: `sg-1 inbound tcp 443 from sg-2 (nodes)`. */
export function quoteRule(groupId: string, egress: boolean, p: IpPermission): string[] {
  const proto = p.IpProtocol === '-1' ? 'all traffic' : p.IpProtocol === '6' ? 'tcp' : p.IpProtocol;
  const ports =
    p.IpProtocol === '-1' || p.FromPort === undefined || p.FromPort === null || p.FromPort === -1
      ? ''
      : p.FromPort === p.ToPort
        ? ` ${p.FromPort}`
        : ` ${p.FromPort}-${p.ToPort}`;
  const head = `${groupId} ${egress ? 'outbound' : 'inbound'} ${proto}${ports} ${egress ? 'to' : 'from'}`;
  const note = (d: string | null | undefined) => (d ? ` ("${d}")` : '');
  return [
    ...(p.UserIdGroupPairs ?? []).map((g) => `${head} ${g.GroupId ?? '?'}${note(g.Description)}`),
    ...(p.IpRanges ?? []).map((r) => `${head} ${r.CidrIp}${note(r.Description)}`),
    ...(p.Ipv6Ranges ?? []).map((r) => `${head} ${r.CidrIpv6}${note(r.Description)}`),
    ...(p.PrefixListIds ?? []).map((l) => `${head} ${l.PrefixListId}`),
  ];
}

/**
 * Does any rule of `groups` admit TCP `port` from (inbound) or to (egress) the peer?
 * A prefix-list rule on the port cannot be evaluated here: unknown, not fail.
 */
export function admits(
  groups: readonly SecurityGroup[],
  egress: boolean,
  port: number,
  peer: Peer,
): RuleVerdict {
  const seen: string[] = [];
  let prefixList: string | undefined;
  for (const g of groups) {
    for (const p of (egress ? g.IpPermissionsEgress : g.IpPermissions) ?? []) {
      const quotes = quoteRule(g.GroupId, egress, p);
      seen.push(...quotes);
      if (!portMatches(p, port)) continue;
      const byGroup = (p.UserIdGroupPairs ?? []).find(
        (pair) => pair.GroupId && peer.groups.includes(pair.GroupId),
      );
      const byCidr = (p.IpRanges ?? []).find((r) => peer.coveredBy(r.CidrIp));
      if (byGroup || byCidr) {
        const which = byGroup?.GroupId ?? byCidr?.CidrIp ?? '';
        return { status: 'pass', rule: quotes.find((q) => q.includes(which)) ?? quotes[0] ?? '' };
      }
      if ((p.PrefixListIds ?? []).length > 0) prefixList = quotes.find((q) => q.includes('pl-'));
    }
  }
  if (prefixList)
    return {
      status: 'unknown',
      reason: `${prefixList}: prefix-list rules are not evaluated (check its entries)`,
    };
  return { status: 'fail', rules: seen };
}
