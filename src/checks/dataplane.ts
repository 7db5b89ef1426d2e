import type { Service, ServicePort } from '../cluster/kube-types.js';
import type { IptablesSave } from '../cluster/parse/iptables.js';
import type { IpvsTable } from '../cluster/parse/ipvsadm.js';
import type { NftKubeProxy } from '../cluster/parse/nft.js';
import type { EndpointAddress, Facts, ProxyMode } from './lib/facts.js';
import {
  expectedBackends,
  isHeadless,
  servicePortName,
  serviceUnavailable,
  targetService,
  usableEndpoints,
} from './lib/service.js';
import type { Check, NodeVerdict, Suspect } from './types.js';
import { finding } from './types.js';

interface PortResult {
  /** Problems that mean the rules disagree with EndpointSlices. */
  stale: string[];
  evidence: string[];
  /** No Service rules at all on the node: kube-proxy never synced. */
  empty: boolean;
  unknown?: string;
}

/**
 * SOP 2C/2E: the Service's programmed dataplane on each node against its ready
 * endpoints: KUBE-SVC/KUBE-SEP DNAT targets (iptables), real servers (IPVS) or endpoint
 * chains (nftables). Stale backends, missing chains, and "has no endpoints" rules for a
 * Service that has endpoints. Without captures the verdict is `unknown`, never `pass`.
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
          summary: `${mode} rules match ${endpoints.length} ready endpoint(s)`,
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
      `rules for the Service match its ${endpoints.length} ready endpoint(s) on ${nodes.length - unknown} node(s)${suffix}`,
      {
        evidence: evidence.slice(0, 6),
        nodes: verdicts,
      },
    );
  },
};

/** One Service port on one node: what to compare and where to record the verdict. */
interface PortCheck {
  readonly node: string;
  /** `ns/svc:port` as kube-proxy names it. */
  readonly name: string;
  readonly vip: string;
  readonly port: ServicePort;
  /** Ready endpoints as `ip:port`. */
  readonly expected: Set<string>;
  readonly result: PortResult;
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
  for (const port of service.spec.ports ?? []) {
    const expected = expectedBackends(port, facts, relevant);
    const name = servicePortName(namespace, service.metadata.name, port);
    const ctx: PortCheck = { node, name, vip: service.spec.clusterIP ?? '', port, expected, result };
    if (mode === 'iptables') {
      if (captures.iptables.state === 'missing') return { ...result, unknown: captures.iptables.reason };
      comparePortIptables(ctx, captures.iptables.value);
    } else if (mode === 'ipvs') {
      if (captures.ipvs.state === 'missing') return { ...result, unknown: captures.ipvs.reason };
      comparePortIpvs(ctx, captures.ipvs.value);
    } else if (mode === 'nftables') {
      if (captures.nft.state === 'missing') return { ...result, unknown: captures.nft.reason };
      comparePortNft(ctx, captures.nft.value);
    } else {
      return { ...result, unknown: 'proxy mode unknown' };
    }
    if (result.empty) break;
  }
  return result;
}

function compareSets(
  node: string,
  name: string,
  expected: Set<string>,
  actual: Map<string, string>,
  result: PortResult,
): void {
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

function comparePortIptables(ctx: PortCheck, ipt: IptablesSave): void {
  const { node, name, vip, port, expected, result } = ctx;
  const services = ipt.rules('nat', 'KUBE-SERVICES');
  if (services.length === 0) {
    result.empty = true;
    result.evidence.push(
      `${node} iptables-save: nat chain KUBE-SERVICES ${ipt.hasChain('nat', 'KUBE-SERVICES') ? 'is empty' : 'does not exist'}`,
    );
    return;
  }
  const proto = (port.protocol ?? 'TCP').toLowerCase();
  const entry = services.find(
    (r) =>
      r.destination === `${vip}/32` &&
      r.dport === String(port.port) &&
      r.protocol === proto &&
      (r.jump?.startsWith('KUBE-SVC-') || r.jump?.startsWith('KUBE-SVL-')),
  );
  const reject = ipt.rules('filter', 'KUBE-SERVICES').find((r) => r.comment === `${name} has no endpoints`);
  if (reject) {
    result.stale.push(`${name}: REJECT "has no endpoints" rule while ${expected.size} endpoint(s) are ready`);
    result.evidence.push(`${node} iptables-save: ${reject.raw}`);
  }
  if (!entry) {
    if (!reject) {
      result.stale.push(
        `${name}: no KUBE-SERVICES rule for ${vip}:${port.port}/${proto} (Service chain missing)`,
      );
      result.evidence.push(
        `${node} iptables-save: no -A KUBE-SERVICES -d ${vip}/32 … --dport ${port.port} rule`,
      );
    }
    return;
  }
  const svcChain = entry.jump as string;
  if (!ipt.hasChain('nat', svcChain) || ipt.rules('nat', svcChain).length === 0) {
    result.stale.push(`${name}: chain ${svcChain} referenced but empty or missing`);
    result.evidence.push(`${node} iptables-save: ${entry.raw}`);
    return;
  }
  const actual = new Map<string, string>();
  for (const rule of ipt.rules('nat', svcChain)) {
    if (!rule.jump?.startsWith('KUBE-SEP-')) continue;
    const dnat = ipt.rules('nat', rule.jump).find((r) => r.toDestination);
    if (dnat?.toDestination) actual.set(dnat.toDestination, `iptables-save: ${dnat.raw}`);
    else actual.set(`${rule.jump} (no DNAT)`, `iptables-save: ${rule.raw}`);
  }
  compareSets(node, name, expected, actual, result);
}

function comparePortIpvs(ctx: PortCheck, table: IpvsTable): void {
  const { node, name, vip, port, expected, result } = ctx;
  if (table.error) {
    result.empty = true;
    result.evidence.push(`${node} ipvsadm: ${table.error}`);
    return;
  }
  const proto = (port.protocol ?? 'TCP').toUpperCase();
  const vs = table.virtualServers.find((v) => v.address === `${vip}:${port.port}` && v.protocol === proto);
  if (!vs) {
    if (table.virtualServers.length === 0) {
      result.empty = true;
      result.evidence.push(`${node} ipvsadm -Ln: no virtual servers at all`);
    } else {
      result.stale.push(`${name}: no IPVS virtual server for ${vip}:${port.port}/${proto}`);
      result.evidence.push(`${node} ipvsadm -Ln: no "${proto}  ${vip}:${port.port}" entry`);
    }
    return;
  }
  const actual = new Map(vs.realServers.map((rs) => [rs.address, `ipvsadm: ${vs.raw} ${rs.raw}`]));
  compareSets(node, name, expected, actual, result);
}

function comparePortNft(ctx: PortCheck, nft: NftKubeProxy): void {
  const { node, name, vip, port, expected, result } = ctx;
  if (!nft.present) {
    result.empty = true;
    result.evidence.push(`${node} nft list ruleset: no table ip kube-proxy`);
    return;
  }
  const proto = (port.protocol ?? 'TCP').toLowerCase();
  const noEndpoints = nft.noEndpointServices.find(
    (e) => e.ip === vip && e.protocol === proto && e.port === String(port.port),
  );
  if (noEndpoints) {
    result.stale.push(`${name}: listed in no-endpoint-services while ${expected.size} endpoint(s) are ready`);
    result.evidence.push(`${node} nft: no-endpoint-services element ${noEndpoints.raw}`);
  }
  const entry = nft.serviceIps.find(
    (e) => e.ip === vip && e.protocol === proto && e.port === String(port.port),
  );
  if (!entry) {
    if (!noEndpoints) {
      result.stale.push(`${name}: no service-ips element for ${vip} . ${proto} . ${port.port}`);
      result.evidence.push(`${node} nft: service-ips has no element for ${vip} . ${proto} . ${port.port}`);
    }
    return;
  }
  const actual = new Map<string, string>();
  for (const chain of nft.chainTargets.get(entry.verdict) ?? []) {
    const target = nft.endpointTargets.get(chain);
    if (target) actual.set(target, `nft chain ${chain}: dnat to ${target}`);
  }
  compareSets(node, name, expected, actual, result);
}
