/**
 * The parts of `nft list ruleset` (table `ip kube-proxy`) kproxy needs: which chains
 * exist, the `service-ips` map (VIP . proto . port → service chain), the
 * `no-endpoint-services` map, and the DNAT target of each endpoint chain.
 */
export interface NftServiceEntry {
  readonly ip: string;
  readonly protocol: string;
  readonly port: string;
  readonly verdict: string;
  readonly raw: string;
}

export interface NftKubeProxy {
  readonly present: boolean;
  readonly chains: ReadonlySet<string>;
  readonly serviceIps: readonly NftServiceEntry[];
  readonly noEndpointServices: readonly NftServiceEntry[];
  /** Endpoint chain name → `ip:port` of its DNAT rule. */
  readonly endpointTargets: ReadonlyMap<string, string>;
  /** Chain name → chains it jumps/goes to (for service → endpoint fan-out). */
  readonly chainTargets: ReadonlyMap<string, readonly string[]>;
}

/** `10.96.0.10 . udp . 53 [comment "ns/svc:port"] : goto <chain>` */
const elementPattern =
  /(\d+\.\d+\.\d+\.\d+)\s*\.\s*(tcp|udp|sctp)\s*\.\s*(\d+)(?:\s+comment\s+"[^"]*")?\s*:\s*(goto|jump)?\s*([\w./:-]+)/g;

export function parseNftRuleset(text: string): NftKubeProxy {
  const chains = new Set<string>();
  const serviceIps: NftServiceEntry[] = [];
  const noEndpointServices: NftServiceEntry[] = [];
  const endpointTargets = new Map<string, string>();
  const chainTargets = new Map<string, string[]>();
  let inTable = false;
  let depth = 0;
  let block: { kind: 'chain' | 'map'; name: string } | undefined;
  let present = false;

  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!inTable) {
      if (/^table ip kube-proxy\s*\{/.test(line)) {
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
      if (target) {
        for (const m of line.matchAll(elementPattern)) {
          target.push({
            ip: m[1] as string,
            protocol: m[2] as string,
            port: m[3] as string,
            verdict: m[5] as string,
            raw: m[0],
          });
        }
      }
    } else if (block?.kind === 'chain') {
      const dnat = /dnat to (\d+\.\d+\.\d+\.\d+:\d+)/.exec(line);
      if (dnat) endpointTargets.set(block.name, dnat[1] as string);
      for (const m of line.matchAll(/(?:goto|jump) ([\w./:-]+)/g)) {
        const list = chainTargets.get(block.name) ?? [];
        list.push(m[1] as string);
        chainTargets.set(block.name, list);
      }
    }
    depth += (line.match(/\{/g)?.length ?? 0) - (line.match(/\}/g)?.length ?? 0);
    if (depth === 1) block = undefined;
    if (depth <= 0) inTable = false;
  }
  return { present, chains, serviceIps, noEndpointServices, endpointTargets, chainTargets };
}
