/**
 * One Service port of one address family on one node against what a capture says
 * kube-proxy programmed there: iptables-save / ip6tables-save, ipvsadm, or one nft
 * table (`ip` or `ip6`). Pure.
 */
import type { ServicePort } from '../../cluster/kube-types.js';
import { canonicalHostPort, canonicalIp, type IpFamily } from '../../cluster/parse/ip-family.js';
import type { IptablesSave } from '../../cluster/parse/iptables.js';
import type { IpvsTable } from '../../cluster/parse/ipvsadm.js';
import { type NftKubeProxy, serviceBackends } from '../../cluster/parse/nft.js';

export interface PortResult {
  /** Problems that mean the rules disagree with EndpointSlices. */
  stale: string[];
  evidence: string[];
  /** No Service rules at all on the node: kube-proxy never synced. */
  empty: boolean;
  unknown?: string;
}

export interface PortCheck {
  readonly node: string;
  readonly family: IpFamily;
  /** `ns/svc:port` as kube-proxy names it, with the family when it matters. */
  readonly name: string;
  readonly vip: string;
  readonly port: ServicePort;
  /** Ready endpoints of this family as `ip:port` / `[ip6]:port`. */
  readonly expected: Set<string>;
  readonly result: PortResult;
}

function compareSets(ctx: PortCheck, actual: Map<string, string>): void {
  const { node, name, expected, result } = ctx;
  const stale = [...actual.keys()].filter((a) => !expected.has(a));
  const absent = [...expected].filter((e) => !actual.has(e));
  if (stale.length > 0) {
    result.stale.push(
      `${name}: ${stale.length} stale backend(s) ${stale.slice(0, 3).join(', ')} not in EndpointSlices`,
    );
    result.evidence.push(...stale.slice(0, 3).map((s) => `${node}: ${actual.get(s)}`));
  }
  if (absent.length > 0) {
    result.stale.push(`${name}: ready endpoint(s) ${absent.slice(0, 3).join(', ')} not programmed`);
    result.evidence.push(
      `${node}: no backend rule for ${absent.slice(0, 3).join(', ')} (ready in EndpointSlices)`,
    );
  }
}

export function comparePortIptables(ctx: PortCheck, ipt: IptablesSave): void {
  const { node, name, vip, port, expected, result } = ctx;
  const tool = ctx.family === 'IPv6' ? 'ip6tables-save' : 'iptables-save';
  if (!ipt.hasRules('nat', 'KUBE-SERVICES')) {
    result.empty = true;
    result.evidence.push(
      `${node} ${tool}: nat chain KUBE-SERVICES ${ipt.hasChain('nat', 'KUBE-SERVICES') ? 'is empty' : 'does not exist'}`,
    );
    return;
  }
  const proto = (port.protocol ?? 'TCP').toLowerCase();
  // iptables-save prints an IPv4 destination as `-d A.B.C.D/32`: only those lines are
  // tokenized. IPv6 has several spellings of one address; its rules are all read.
  const services =
    ctx.family === 'IPv6'
      ? ipt.rules('nat', 'KUBE-SERVICES')
      : ipt.rulesContaining('nat', 'KUBE-SERVICES', `-d ${vip}/`);
  const entry = services.find(
    (r) =>
      canonicalIp(r.destination?.replace(/\/(32|128)$/, '') ?? '') === vip &&
      r.dport === String(port.port) &&
      r.protocol === proto &&
      (r.jump?.startsWith('KUBE-SVC-') || r.jump?.startsWith('KUBE-SVL-')),
  );
  const reject = ipt
    .rulesContaining('filter', 'KUBE-SERVICES', 'has no endpoints')
    .find((r) => r.comment === `${name.replace(/ \(IPv[46]\)$/, '')} has no endpoints`);
  if (reject) {
    result.stale.push(`${name}: REJECT "has no endpoints" rule while ${expected.size} endpoint(s) are ready`);
    result.evidence.push(`${node} ${tool}: ${reject.raw}`);
  }
  if (!entry) {
    if (!reject) {
      result.stale.push(
        `${name}: no KUBE-SERVICES rule for ${vip}:${port.port}/${proto} (Service chain missing)`,
      );
      result.evidence.push(`${node} ${tool}: no -A KUBE-SERVICES -d ${vip} … --dport ${port.port} rule`);
    }
    return;
  }
  const svcChain = entry.jump as string;
  if (!ipt.hasChain('nat', svcChain) || ipt.rules('nat', svcChain).length === 0) {
    result.stale.push(`${name}: chain ${svcChain} referenced but empty or missing`);
    result.evidence.push(`${node} ${tool}: ${entry.raw}`);
    return;
  }
  const actual = new Map<string, string>();
  for (const rule of ipt.rules('nat', svcChain)) {
    if (!rule.jump?.startsWith('KUBE-SEP-')) continue;
    const dnat = ipt.rules('nat', rule.jump).find((r) => r.toDestination);
    if (dnat?.toDestination) actual.set(canonicalHostPort(dnat.toDestination), `${tool}: ${dnat.raw}`);
    else actual.set(`${rule.jump} (no DNAT)`, `${tool}: ${rule.raw}`);
  }
  compareSets(ctx, actual);
}

export function comparePortIpvs(ctx: PortCheck, table: IpvsTable): void {
  const { node, name, vip, port, result } = ctx;
  if (table.error) {
    result.empty = true;
    result.evidence.push(`${node} ipvsadm: ${table.error}`);
    return;
  }
  const proto = (port.protocol ?? 'TCP').toUpperCase();
  const address = canonicalHostPort(ctx.family === 'IPv6' ? `[${vip}]:${port.port}` : `${vip}:${port.port}`);
  const vs = table.virtualServers.find(
    (v) => canonicalHostPort(v.address) === address && v.protocol === proto,
  );
  if (!vs) {
    if (table.virtualServers.length === 0) {
      result.empty = true;
      result.evidence.push(`${node} ipvsadm -Ln: no virtual servers at all`);
    } else {
      result.stale.push(`${name}: no IPVS virtual server for ${address}/${proto}`);
      result.evidence.push(`${node} ipvsadm -Ln: no "${proto}  ${address}" entry`);
    }
    return;
  }
  const actual = new Map(
    vs.realServers.map((rs) => [canonicalHostPort(rs.address), `ipvsadm: ${vs.raw} ${rs.raw}`]),
  );
  compareSets(ctx, actual);
}

export function comparePortNft(ctx: PortCheck, nft: NftKubeProxy): void {
  const { node, name, vip, port, expected, result } = ctx;
  const table = `table ${nft.family} kube-proxy`;
  if (!nft.present) {
    result.empty = true;
    result.evidence.push(`${node} nft list ruleset: no ${table}`);
    return;
  }
  const proto = (port.protocol ?? 'TCP').toLowerCase();
  const matches = (e: { ip: string; protocol: string; port: string }) =>
    canonicalIp(e.ip) === vip && e.protocol === proto && e.port === String(port.port);
  const noEndpoints = nft.noEndpointServices.find(matches);
  if (noEndpoints) {
    result.stale.push(`${name}: listed in no-endpoint-services while ${expected.size} endpoint(s) are ready`);
    result.evidence.push(`${node} nft ${table}: no-endpoint-services element ${noEndpoints.raw}`);
  }
  const entry = nft.serviceIps.find(matches);
  if (!entry) {
    if (!noEndpoints) {
      result.stale.push(`${name}: no service-ips element for ${vip} . ${proto} . ${port.port}`);
      result.evidence.push(
        `${node} nft ${table}: service-ips has no element for ${vip} . ${proto} . ${port.port}`,
      );
    }
    return;
  }
  compareSets(ctx, serviceBackends(nft, entry.verdict));
}
