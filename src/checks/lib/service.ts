/** Service helpers: naming as kube-proxy does, shape, and expected backends. Pure. */
import type { Service, ServicePort } from '../../cluster/kube-types.js';
import { canonicalIp, familyOf, hostPort, type IpFamily } from '../../cluster/parse/ip-family.js';
import type { ClusterView } from '../../cluster/view.js';
import type { EndpointAddress, Facts } from './facts.js';

export function targetService(view: ClusterView): Service | undefined {
  return view.service.state === 'collected' ? view.service.value : undefined;
}

export function serviceRef(view: ClusterView): string {
  return `${view.target.namespace ?? 'default'}/${view.target.service ?? ''}`;
}

/** `ns/name:port` as kube-proxy writes it in rule comments (`ns/name` for an unnamed port). */
export function servicePortName(namespace: string, name: string, port: ServicePort): string {
  return port.name ? `${namespace}/${name}:${port.name}` : `${namespace}/${name}`;
}

export function isHeadless(service: Service): boolean {
  return service.spec.clusterIP === 'None';
}

export function isExternalName(service: Service): boolean {
  return service.spec.type === 'ExternalName';
}

export function describeService(service: Service): string {
  const spec = service.spec;
  const ports = (spec.ports ?? [])
    .map(
      (p) =>
        `${p.name ? `${p.name} ` : ''}${p.port}→${p.targetPort ?? p.port}/${p.protocol ?? 'TCP'}${p.nodePort ? ` nodePort=${p.nodePort}` : ''}`,
    )
    .join(', ');
  const selector = Object.entries(spec.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const parts = [
    `type=${spec.type ?? 'ClusterIP'}`,
    `clusterIP=${spec.clusterIP ?? '-'}`,
    `ports=[${ports}]`,
    `selector={${selector}}`,
  ];
  if (spec.externalTrafficPolicy) parts.push(`externalTrafficPolicy=${spec.externalTrafficPolicy}`);
  if (spec.internalTrafficPolicy && spec.internalTrafficPolicy !== 'Cluster')
    parts.push(`internalTrafficPolicy=${spec.internalTrafficPolicy}`);
  if (spec.externalName) parts.push(`externalName=${spec.externalName}`);
  return `Service ${service.metadata.namespace ?? ''}/${service.metadata.name}: ${parts.join(' ')}`;
}

/** The backend `ip:port` set a Service port should be programmed with (ready endpoints). */
export function expectedBackends(
  port: ServicePort,
  facts: Facts,
  endpoints: readonly EndpointAddress[],
): Set<string> {
  const slicePort =
    facts.slicePorts.find((p) => p.name === (port.name ?? '') && p.protocol === (port.protocol ?? 'TCP')) ??
    (facts.slicePorts.length === 1 ? facts.slicePorts[0] : undefined);
  const out = new Set<string>();
  if (!slicePort) return out;
  for (const ep of endpoints) if (ep.ready) out.add(hostPort(ep.ip, slicePort.port));
  return out;
}

/**
 * The Service's families with the cluster IP of each, primary first: `spec.ipFamilies`
 * and `spec.clusterIPs` (dual-stack, either family primary), or the family of
 * `spec.clusterIP` for objects written before dual-stack.
 */
export function serviceFamilies(service: Service): { family: IpFamily; vip: string }[] {
  const ips = (service.spec.clusterIPs ?? [service.spec.clusterIP ?? '']).filter((ip) => ip && ip !== 'None');
  const families = (service.spec.ipFamilies ?? ips.map(familyOf)).filter(
    (f): f is IpFamily => f === 'IPv4' || f === 'IPv6',
  );
  return [...new Set(families)].map((family) => ({
    family,
    vip: canonicalIp(ips.find((ip) => familyOf(ip) === family) ?? ''),
  }));
}

/** Ready endpoints, or all serving ones when the Service publishes not-ready addresses. */
export function usableEndpoints(service: Service, endpoints: readonly EndpointAddress[]): EndpointAddress[] {
  return service.spec.publishNotReadyAddresses
    ? endpoints.filter((e) => e.serving || e.ready)
    : endpoints.filter((e) => e.ready);
}

/** Why a check that needs the target Service cannot run, or undefined when it can. */
export function serviceUnavailable(
  view: ClusterView,
): { status: 'skip' | 'unknown'; summary: string } | undefined {
  if (!view.target.service)
    return { status: 'skip', summary: 'no target Service (cluster-wide kube-proxy health only)' };
  if (view.service.state === 'missing')
    return { status: 'unknown', summary: `cannot read the Service: ${view.service.reason}` };
  const service = view.service.value;
  if (!service) return { status: 'skip', summary: `Service ${serviceRef(view)} does not exist` };
  if (isExternalName(service))
    return { status: 'skip', summary: 'ExternalName Service: a DNS CNAME, no endpoints or proxy rules' };
  return undefined;
}
