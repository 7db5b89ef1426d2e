/** The target Service's endpoints as kube-proxy sees them: IPv4 and IPv6 slices, one entry per address. Pure. */
import type { Collected } from '../../cluster/collected.js';
import type { EndpointSlice } from '../../cluster/kube-types.js';
import { canonicalIp, type IpFamily } from '../../cluster/parse/ip-family.js';
import type { EndpointAddress } from './facts.js';

export function endpointsOf(
  slices: Collected<readonly EndpointSlice[]>,
): Collected<readonly EndpointAddress[]> {
  if (slices.state === 'missing') return slices;
  const byIp = new Map<string, EndpointAddress>();
  for (const slice of slices.value) {
    // kube-proxy programs IPv4 and IPv6 slices only (pkg/proxy/endpointslicecache.go).
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const family: IpFamily = slice.addressType;
    for (const ep of slice.endpoints ?? []) {
      const terminating = ep.conditions?.terminating === true;
      // EndpointSlice semantics: a nil `ready` means ready, and terminating endpoints are never ready.
      const ready = ep.conditions?.ready !== false && !terminating;
      const pod = ep.targetRef?.kind === 'Pod' ? (ep.targetRef.name ?? undefined) : undefined;
      for (const address of ep.addresses) {
        const ip = canonicalIp(address);
        byIp.set(ip, {
          ip,
          family,
          endpoint: pod ? `Pod ${ep.targetRef?.namespace ?? slice.metadata.namespace ?? ''}/${pod}` : ip,
          node: ep.nodeName ?? undefined,
          pod,
          ready,
          serving: ep.conditions?.serving ?? ready,
          terminating,
        });
      }
    }
  }
  return { state: 'collected', value: [...byIp.values()] };
}

export function slicePortsOf(
  slices: Collected<readonly EndpointSlice[]>,
): { name: string; port: number; protocol: string }[] {
  if (slices.state === 'missing') return [];
  const seen = new Map<string, { name: string; port: number; protocol: string }>();
  for (const slice of slices.value) {
    for (const p of slice.ports ?? []) {
      if (p.port == null) continue;
      const entry = { name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' };
      seen.set(`${entry.name}/${entry.protocol}`, entry);
    }
  }
  return [...seen.values()];
}
