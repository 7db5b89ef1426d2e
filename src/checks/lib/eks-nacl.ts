/**
 * Network ACL evaluation: stateless, rules in RuleNumber order, first match wins, the
 * `*` rule (32767) denies what nothing matched (VPC User Guide, "Control subnet traffic
 * with network ACLs"). Replies need their own rule: TCP 443 out to the control plane
 * comes back on an ephemeral port (1024-65535), and so does the kubelet's answer on 10250.
 */
import type { NetworkAcl, NetworkAclEntry } from '../../cluster/eks/ec2-types.js';
import { cidrContains, cidrOverlaps } from './cidr.js';

export const ephemeral = { from: 1024, to: 65535 } as const;

interface Interval {
  from: number;
  to: number;
}

export interface NaclBlock {
  readonly ports: string;
  readonly rule: string;
}

export function quoteEntry(acl: NetworkAcl, e: NetworkAclEntry): string {
  const proto =
    e.Protocol === '-1' ? 'all' : e.Protocol === '6' ? 'tcp' : e.Protocol === '17' ? 'udp' : e.Protocol;
  const ports =
    e.Protocol === '-1' || !e.PortRange ? '' : ` ${e.PortRange.From ?? 0}-${e.PortRange.To ?? 65535}`;
  const rule = e.RuleNumber === 32767 ? '*' : String(e.RuleNumber);
  return `${acl.NetworkAclId} ${e.Egress ? 'outbound' : 'inbound'} rule ${rule} ${e.RuleAction} ${proto}${ports} ${e.Egress ? 'to' : 'from'} ${e.CidrBlock ?? e.Ipv6CidrBlock ?? '?'}`;
}

/**
 * The TCP ports of `range` the ACL drops for traffic to (egress) or from (ingress) `peer`.
 * An allow counts only where it covers the whole peer CIDR; a deny wherever it overlaps it.
 */
export function naclBlocks(
  acl: NetworkAcl,
  egress: boolean,
  range: { from: number; to: number },
  peer: string,
): NaclBlock[] {
  let open: Interval[] = [{ from: range.from, to: range.to }];
  const blocks: NaclBlock[] = [];
  const entries = (acl.Entries ?? [])
    .filter((e) => e.Egress === egress && e.CidrBlock && (e.Protocol === '-1' || e.Protocol === '6'))
    .sort((a, b) => a.RuleNumber - b.RuleNumber);
  for (const e of entries) {
    if (open.length === 0) break;
    const cidr = e.CidrBlock as string;
    const applies = e.RuleAction === 'allow' ? cidrContains(cidr, peer) : cidrOverlaps(cidr, peer);
    if (!applies) continue;
    const span =
      e.Protocol === '-1' || !e.PortRange
        ? { from: 0, to: 65535 }
        : { from: e.PortRange.From ?? 0, to: e.PortRange.To ?? 65535 };
    const next: Interval[] = [];
    for (const iv of open) {
      const lo = Math.max(iv.from, span.from);
      const hi = Math.min(iv.to, span.to);
      if (lo > hi) {
        next.push(iv);
        continue;
      }
      if (e.RuleAction === 'deny')
        blocks.push({ ports: lo === hi ? `${lo}` : `${lo}-${hi}`, rule: quoteEntry(acl, e) });
      if (iv.from < lo) next.push({ from: iv.from, to: lo - 1 });
      if (hi < iv.to) next.push({ from: hi + 1, to: iv.to });
    }
    open = next;
  }
  // Real ACLs end with the `*` deny-all entry; one without it still denies by default.
  for (const iv of open)
    blocks.push({
      ports: iv.from === iv.to ? `${iv.from}` : `${iv.from}-${iv.to}`,
      rule: `${acl.NetworkAclId} ${egress ? 'outbound' : 'inbound'}: no rule allows it (default deny)`,
    });
  return blocks;
}

/** The ACL associated with the subnet (every subnet has exactly one). */
export function aclOfSubnet(acls: readonly NetworkAcl[], subnetId: string): NetworkAcl | undefined {
  return acls.find((a) => (a.Associations ?? []).some((as) => as.SubnetId === subnetId));
}
