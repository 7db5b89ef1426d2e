import type { Service } from '../cluster/kube-types.js';
import type { IpFamily } from '../cluster/parse/ip-family.js';
import type { IptablesSave } from '../cluster/parse/iptables.js';
import type { IpvsTable } from '../cluster/parse/ipvsadm.js';
import type { NftKubeProxy } from '../cluster/parse/nft.js';
import {
  comparePortIptables,
  comparePortIpvs,
  comparePortNft,
  type PortCheck,
  type PortResult,
} from './lib/dataplane-compare.js';
import type { EndpointAddress, Facts, ParsedCaptures, ProxyMode } from './lib/facts.js';
import {
  expectedBackends,
  isHeadless,
  serviceFamilies,
  servicePortName,
  serviceUnavailable,
  targetService,
  usableEndpoints,
} from './lib/service.js';
import type { Check, NodeVerdict, Suspect } from './types.js';
import { finding } from './types.js';

/**
 * SOP 2C/2E: the Service's programmed dataplane on each node against its ready
 * endpoints: KUBE-SVC/KUBE-SEP DNAT targets (iptables), real servers (IPVS) or the DNAT
 * rules of the service chain (nftables). Stale backends, missing chains, and "has no
 * endpoints" rules for a Service that has endpoints. Each address family of the Service
 * is compared only with the capture of that family (iptables-save / ip6tables-save, nft
 * `ip` / `ip6` table); without it the verdict is `unknown`, never `pass`.
 */
export const dataplane: Check = {
  id: 'dataplane.rules',
  domain: 'dataplane',
  title: 'Programmed rules match EndpointSlices',
  run(view, facts) {
    const unavailable = serviceUnavailable(view);
    if (unavailable) return finding(this, unavailable.status, unavailable.summary);
    const service = targetService(view) as Service;
    if (isHeadless(service))
      return finding(this, 'skip', 'headless Service: kube-proxy programs no rules for it');
    if (facts.endpoints.state === 'missing')
      return finding(this, 'unknown', `EndpointSlices unknown: ${facts.endpoints.reason}`);
    const endpoints = usableEndpoints(service, facts.endpoints.value);
    if (endpoints.length === 0) return finding(this, 'skip', 'no ready endpoints to compare against');
    // Endpoints, not addresses: a dual-stack pod has one address per family.
    const endpointCount = new Set(endpoints.map((e) => e.endpoint)).size;

    const nodes = facts.nodesInScope.filter((n) => view.nodeCaptures.has(n));
    if (nodes.length === 0) {
      return finding(
        this,
        'unknown',
        `no node captures (iptables-save / ipvsadm / nft) for ${view.target.node ?? 'any node'}; the dataplane cannot be verified`,
      );
    }
    const verdicts: Record<string, NodeVerdict> = {};
    const evidence: string[] = [];
    const staleNodes: string[] = [];
    const emptyNodes: string[] = [];
    let unknown = 0;
    for (const node of nodes) {
      const mode = facts.mode.perNode.get(node)?.mode ?? facts.mode.mode;
      const result = checkNode(node, mode, service, endpoints, facts, view.target.namespace ?? 'default');
      evidence.push(...result.evidence);
      if (result.unknown) {
        verdicts[node] = { status: 'unknown', summary: result.unknown };
        unknown++;
      } else if (result.empty) {
        verdicts[node] = { status: 'fail', summary: 'no Service rules programmed at all' };
        emptyNodes.push(node);
      } else if (result.stale.length > 0) {
        verdicts[node] = { status: 'fail', summary: result.stale.join('; ') };
        staleNodes.push(node);
      } else {
        verdicts[node] = {
          status: 'pass',
          summary: `${mode} rules match ${endpointCount} ready endpoint(s)`,
        };
      }
    }
    const notCaptured = facts.nodesInScope.length - nodes.length;
    const suffix = notCaptured > 0 ? ` (${notCaptured} node(s) in scope without captures)` : '';
    if (emptyNodes.length > 0 || staleNodes.length > 0) {
      const suspect: Suspect =
        staleNodes.length > 0
          ? {
              category: 'stale_endpoints',
              score: 0.85,
              detail: `programmed rules disagree with EndpointSlices on ${staleNodes.join(', ')}: ${verdicts[staleNodes[0] as string]?.summary}`,
              nodes: staleNodes,
            }
          : {
              category: 'iptables_sync',
              score: 0.85,
              detail: `no Service rules programmed on ${emptyNodes.join(', ')} (KUBE-SERVICES empty): kube-proxy has not synced there`,
              nodes: emptyNodes,
            };
      const failing = [...emptyNodes, ...staleNodes];
      return finding(
        this,
        'fail',
        `dataplane disagrees with EndpointSlices on ${failing.slice(0, 5).join(', ')}${suffix}`,
        {
          evidence: evidence.slice(0, 16),
          nodes: verdicts,
          suspect,
        },
      );
    }
    if (unknown === nodes.length)
      return finding(this, 'unknown', `captures lack the rules of the active mode${suffix}`, {
        nodes: verdicts,
        evidence,
      });
    return finding(
      this,
      'pass',
      `rules for the Service match its ${endpointCount} ready endpoint(s) on ${nodes.length - unknown} node(s)${suffix}`,
      {
        evidence: evidence.slice(0, 6),
        nodes: verdicts,
      },
    );
  },
};

/** The capture that holds `family`'s rules in `mode`, or why it cannot be read. */
function familyCapture(
  node: string,
  mode: ProxyMode,
  family: IpFamily,
  captures: ParsedCaptures,
):
  | { kind: 'iptables'; value: IptablesSave }
  | { kind: 'ipvs'; value: IpvsTable }
  | { kind: 'nft'; value: NftKubeProxy }
  | { unknown: string } {
  const v6 = family === 'IPv6';
  if (mode === 'iptables') {
    const c = v6 ? captures.ip6tables : captures.iptables;
    if (c.state === 'missing')
      return {
        unknown: v6
          ? `IPv6 rules unknown: ${c.reason} (collect nodes/${node}/ip6tables-save.txt with ip6tables-save)`
          : c.reason,
      };
    return { kind: 'iptables', value: c.value };
  }
  if (mode === 'ipvs') {
    if (captures.ipvs.state === 'missing') return { unknown: captures.ipvs.reason };
    return { kind: 'ipvs', value: captures.ipvs.value };
  }
  if (mode === 'nftables') {
    const c = v6 ? captures.nft6 : captures.nft;
    const other = v6 ? captures.nft : captures.nft6;
    if (c.state === 'missing') return { unknown: c.reason };
    // A capture of one table (`nft list table ip kube-proxy`) says nothing about the other family.
    if (!c.value.present && other.state === 'collected' && other.value.present)
      return {
        unknown: `${family} rules unknown: nft.txt has no table ${c.value.family} kube-proxy (collect nodes/${node}/nft.txt with nft list ruleset)`,
      };
    return { kind: 'nft', value: c.value };
  }
  return { unknown: 'proxy mode unknown' };
}

function checkNode(
  node: string,
  mode: ProxyMode,
  service: Service,
  endpoints: readonly EndpointAddress[],
  facts: Facts,
  namespace: string,
): PortResult {
  const captures = facts.captures(node);
  const result: PortResult = { stale: [], evidence: [], empty: false };
  if (!captures) return { ...result, unknown: 'no captures' };
  const localOnly = service.spec.internalTrafficPolicy === 'Local';
  const relevant = localOnly ? endpoints.filter((e) => e.node === node) : endpoints;
  if (localOnly && relevant.length === 0)
    return {
      ...result,
      unknown: 'internalTrafficPolicy Local and no local endpoint (see service.traffic-policy)',
    };
  const families = serviceFamilies(service);
  const unknown: string[] = [];
  for (const { family, vip } of families) {
    const ofFamily = relevant.filter((e) => e.family === family);
    // No ready endpoint of this family: nothing to compare (endpoints.ready speaks for it).
    if (!vip || !ofFamily.some((e) => e.ready)) continue;
    const capture = familyCapture(node, mode, family, captures);
    if ('unknown' in capture) {
      unknown.push(capture.unknown);
      continue;
    }
    for (const port of service.spec.ports ?? []) {
      const portName = servicePortName(namespace, service.metadata.name, port);
      const name = families.length > 1 || family === 'IPv6' ? `${portName} (${family})` : portName;
      const expected = expectedBackends(port, facts, ofFamily);
      const ctx: PortCheck = { node, family, name, vip, port, expected, result };
      if (capture.kind === 'iptables') comparePortIptables(ctx, capture.value);
      else if (capture.kind === 'ipvs') comparePortIpvs(ctx, capture.value);
      else comparePortNft(ctx, capture.value);
      if (result.empty) return result;
    }
  }
  // A family whose capture is missing leaves the node undecided unless another family already fails.
  if (unknown.length > 0 && result.stale.length === 0) return { ...result, unknown: unknown.join('; ') };
  return result;
}
