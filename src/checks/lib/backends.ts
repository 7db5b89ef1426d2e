/** Route backends against Services and their EndpointSlices (issue 18 §4). Pure. */
import type { EndpointSlice, Service, ServicePort } from '../../cluster/kube-types.js';
import type { RouteBackend } from '../../cluster/north-south/types.js';

export type BackendVerdict =
  | { readonly kind: 'ok'; readonly port: ServicePort; readonly ready: number }
  | { readonly kind: 'no-service' }
  | { readonly kind: 'no-port'; readonly ports: string }
  | { readonly kind: 'no-endpoints'; readonly port: ServicePort };

export function describePorts(service: Service): string {
  return (
    (service.spec.ports ?? [])
      .map((p) => `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol ?? 'TCP'}`)
      .join(', ') || 'none'
  );
}

/**
 * networking.k8s.io/v1 ServiceBackendPort: `number` is the Service's `port`, `name` a
 * Service port's `name` (k8s.io/api networking/v1 types.go); an HTTPRoute backendRef's
 * `port` is the Service's `port` (gateway-api apis/v1 BackendObjectReference).
 */
export function matchPort(service: Service, port: number | string | undefined): ServicePort | undefined {
  if (port === undefined) return undefined;
  return (service.spec.ports ?? []).find((p) =>
    typeof port === 'number' ? p.port === port : p.name === port,
  );
}

/** Ready endpoints of a Service port: the slices of the Service carrying that port's name. */
export function readyEndpoints(
  service: Service,
  port: ServicePort,
  slices: readonly EndpointSlice[],
): number {
  const name = port.name ?? '';
  const addresses = new Set<string>();
  for (const s of slices) {
    if (s.metadata.labels?.['kubernetes.io/service-name'] !== service.metadata.name) continue;
    if (s.addressType === 'FQDN') continue;
    if (!(s.ports ?? []).some((p) => (p.name ?? '') === name)) continue;
    for (const e of s.endpoints ?? [])
      if (e.conditions?.ready !== false) for (const a of e.addresses) addresses.add(a);
  }
  return addresses.size;
}

export function judgeBackend(
  backend: RouteBackend,
  services: readonly Service[],
  slices: readonly EndpointSlice[] | undefined,
): BackendVerdict | 'slices-unknown' {
  const service = services.find((s) => s.metadata.name === backend.service);
  if (!service) return { kind: 'no-service' };
  const port = matchPort(service, backend.port);
  if (!port) return { kind: 'no-port', ports: describePorts(service) };
  if (!slices) return 'slices-unknown';
  const ready = readyEndpoints(service, port, slices);
  return ready === 0 ? { kind: 'no-endpoints', port } : { kind: 'ok', port, ready };
}
