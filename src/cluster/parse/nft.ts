/**
 * The parts of `nft list ruleset` kproxy needs from one kube-proxy table (`table ip
 * kube-proxy` or `table ip6 kube-proxy`): which chains exist, the `service-ips` map
 * (VIP . proto . port → service chain), the `no-endpoint-services` map, and where each
 * chain DNATs. Every layout current kube-proxy versions program is read
 * (kubernetes/kubernetes pkg/proxy/nftables/proxier.go):
 * - a service chain `numgen random mod N vmap { 0 : goto endpoint-… }` and endpoint
 *   chains `meta l4proto tcp dnat to 10.0.0.1:80` / `dnat to [fd00::1]:80` (1.29–1.36);
 * - a service chain that DNATs itself, `dnat ip addr . port to numgen random mod N map
 *   { 0 : 10.0.0.1 . 80, … }` (nft ≥ 1.0 prints `dnat ip to numgen …`), and a single
 *   endpoint's direct `dnat to …` (1.37, kubernetes/kubernetes#140723).
 */
import { canonicalHostPort, hostPort } from './ip-family.js';

export type NftFamily = 'ip' | 'ip6';

export interface NftServiceEntry {
  readonly ip: string;
  readonly protocol: string;
  readonly port: string;
  readonly verdict: string;
  readonly raw: string;
}

export interface NftKubeProxy {
  readonly family: NftFamily;
  readonly present: boolean;
  readonly chains: ReadonlySet<string>;
  readonly serviceIps: readonly NftServiceEntry[];
  readonly noEndpointServices: readonly NftServiceEntry[];
  /** Chain name → the `ip:port` / `[ip6]:port` backends its DNAT rules can pick. */
  readonly dnatTargets: ReadonlyMap<string, readonly { target: string; raw: string }[]>;
  /** Chain name → chains it jumps/goes to (for service → endpoint fan-out). */
  readonly chainTargets: ReadonlyMap<string, readonly string[]>;
}

/** `10.96.0.10 . udp . 53 [comment "ns/svc:port"] : goto <chain>` (IPv4 or IPv6 key). */
const elementPattern =
  /([0-9a-fA-F][0-9a-fA-F:.]*)\s+\.\s+(tcp|udp|sctp)\s+\.\s+(\d+)(?:\s+comment\s+"[^"]*")?\s*:\s*(goto|jump)?\s*([\w./:-]+)/g;
/** `dnat to 10.0.0.1:80`, `dnat ip to …`, `dnat ip6 to [fd00::1]:80`. */
const directDnat = /dnat(?: ip6?)? to (\[[0-9a-fA-F:.]+\]:\d+|\d+\.\d+\.\d+\.\d+:\d+)/;
/** `dnat ip[6] [addr . port ]to numgen random mod N map { 0 : A . P, 1 : B . P }` */
const mapDnat = /dnat ip6? (?:addr \. port )?to numgen \w+ mod \d+ map \{([^}]*)\}/;

export function parseNftRuleset(text: string, family: NftFamily = 'ip'): NftKubeProxy {
  const chains = new Set<string>();
  const serviceIps: NftServiceEntry[] = [];
  const noEndpointServices: NftServiceEntry[] = [];
  const dnatTargets = new Map<string, { target: string; raw: string }[]>();
  const chainTargets = new Map<string, string[]>();
  const tableStart = new RegExp(`^table ${family} kube-proxy\\s*\\{`);
  let inTable = false;
  let depth = 0;
  let block: { kind: 'chain' | 'map'; name: string } | undefined;
  let present = false;
  const push = <T>(map: Map<string, T[]>, key: string, value: T) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };

  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!inTable) {
      if (tableStart.test(line)) {
        inTable = true;
        present = true;
        depth = 1;
      }
      continue;
    }
    const chainStart = /^chain (\S+) \{/.exec(line);
    const mapStart = /^(map|set) (\S+) \{/.exec(line);
    if (chainStart) {
      block = { kind: 'chain', name: chainStart[1] as string };
      chains.add(block.name);
    } else if (mapStart) {
      block = { kind: 'map', name: mapStart[2] as string };
    } else if (block?.kind === 'map') {
      const target =
        block.name === 'service-ips'
          ? serviceIps
          : block.name === 'no-endpoint-services'
            ? noEndpointServices
            : undefined;
      for (const m of target ? line.matchAll(elementPattern) : []) {
        target?.push({
          ip: m[1] as string,
          protocol: m[2] as string,
          port: m[3] as string,
          verdict: m[5] as string,
          raw: m[0],
        });
      }
    } else if (block?.kind === 'chain') {
      const name = block.name;
      const mapped = mapDnat.exec(line);
      if (mapped) {
        for (const entry of (mapped[1] as string).split(',')) {
          const m = /\d+\s*:\s*([0-9a-fA-F:.]+?)\s+\.\s+(\d+)/.exec(entry);
          if (m) push(dnatTargets, name, { target: hostPort(m[1] as string, m[2] as string), raw: line });
        }
      } else {
        const direct = directDnat.exec(line);
        if (direct) push(dnatTargets, name, { target: canonicalHostPort(direct[1] as string), raw: line });
      }
      for (const m of line.matchAll(/(?:goto|jump) ([\w./:-]+)/g)) push(chainTargets, name, m[1] as string);
    }
    depth += (line.match(/\{/g)?.length ?? 0) - (line.match(/\}/g)?.length ?? 0);
    if (depth === 1) block = undefined;
    if (depth <= 0) inTable = false;
  }
  return { family, present, chains, serviceIps, noEndpointServices, dnatTargets, chainTargets };
}

/**
 * The backends a service chain DNATs to: its own DNAT rules (1.37 layouts) and those of
 * the chains it jumps or goes to (endpoint chains), each with the rule that says so.
 */
export function serviceBackends(nft: NftKubeProxy, serviceChain: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const chain of [serviceChain, ...(nft.chainTargets.get(serviceChain) ?? [])]) {
    for (const { target, raw } of nft.dnatTargets.get(chain) ?? [])
      if (!out.has(target)) out.set(target, `nft chain ${chain}: ${raw}`);
  }
  return out;
}
