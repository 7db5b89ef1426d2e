/**
 * Runbook 004 "Ingress And LoadBalancer": 502/504 from the Ingress only means no healthy
 * upstream — check the backend Service name/port and its readiness. Every Service backend
 * of the target Ingress or HTTPRoute: the Service exists, the port the route names is one
 * of its ports (number or name), and it has ready endpoints.
 */
import type { Collected } from '../cluster/collected.js';
import type { EndpointSlice, Service } from '../cluster/kube-types.js';
import { type RouteBackend, routeBackends } from '../cluster/north-south/types.js';
import { type BackendVerdict, judgeBackend } from './lib/backends.js';
import type { Check, Suspect } from './types.js';
import { finding } from './types.js';

export const ingressBackends: Check = {
  id: 'ingress.backends',
  domain: 'north-south',
  title: 'Ingress / HTTPRoute backends',
  run(view) {
    const ns = view.northSouth;
    const ref = ns?.routeRef;
    if (!ns || !ref) return finding(this, 'skip', 'no Ingress or HTTPRoute target');
    const label = `${ref.kind} ${ref.namespace}/${ref.name}`;
    if (!ns.route || ns.route.state === 'missing')
      return finding(this, 'unknown', `cannot read ${label}: ${ns.route?.reason ?? 'not collected'}`);
    if (!ns.route.value) return finding(this, 'unknown', `${label} not found`);
    const backends = dedupe(routeBackends(ns.route.value.object, ns.route.value.kind));
    if (backends.length === 0)
      return finding(this, 'fail', `${label} has no Service backend`, {
        suspect: suspect(`${label} routes to no Service`, 0.9),
      });
    if (ns.services.state === 'missing')
      return finding(this, 'unknown', `cannot read the Services of ${ref.namespace}: ${ns.services.reason}`);
    const { evidence, broken, empty, unknown } = judgeAll(
      backends,
      label,
      ref.namespace,
      ns.services.value,
      ns.endpointSlices,
    );
    if (broken.length > 0)
      return finding(
        this,
        'fail',
        `${label} sends traffic to a backend that does not exist: ${broken.join(', ')}`,
        {
          evidence,
          suspect: suspect(
            evidence.find((e) => /does not exist|is not a port/.test(e)) ?? label,
            // A route to a Service that does not exist is the fact service.shape also sees (a
            // missing target Service, 0.95): said from where the traffic comes, it ranks first.
            evidence.some((e) => / does not exist$/.test(e)) ? 0.96 : 0.9,
          ),
        },
      );
    if (empty.length > 0)
      return finding(
        this,
        'fail',
        `${label}: backend Service(s) without ready endpoints: ${empty.join(', ')}`,
        {
          evidence,
          suspect: {
            category: 'no_endpoints',
            score: 0.85,
            detail: `${label} backend ${empty.map((s) => `${ref.namespace}/${s}`).join(', ')} has no ready endpoints (the Ingress answers 502/503)`,
            nodes: [],
          },
        },
      );
    if (unknown)
      return finding(this, 'unknown', `${label}: ready endpoints of the backends unknown`, { evidence });
    return finding(
      this,
      'pass',
      `${label}: ${backends.length} backend(s) exist, match a Service port and have ready endpoints`,
      {
        evidence,
      },
    );
  },
};

/** Every backend judged, with the evidence quoting where in the route it is. */
function judgeAll(
  backends: readonly RouteBackend[],
  label: string,
  namespace: string,
  services: readonly Service[],
  slices: Collected<readonly EndpointSlice[]>,
) {
  const evidence: string[] = [];
  const broken: string[] = [];
  const empty: string[] = [];
  let unknown = false;
  const known = slices.state === 'collected' ? slices.value : undefined;
  for (const b of backends) {
    const verdict = judgeBackend(b, services, known);
    const quote = `${label} ${b.at}: backend Service ${b.service}, port ${b.port ?? '(none)'}`;
    if (verdict === 'slices-unknown') {
      unknown = true;
      evidence.push(`${quote}: ready endpoints unknown (${slices.state === 'missing' ? slices.reason : ''})`);
      continue;
    }
    evidence.push(`${quote}: ${describe(verdict, namespace, b)}`);
    if (verdict.kind === 'no-service' || verdict.kind === 'no-port')
      broken.push(`${b.service}:${b.port ?? ''}`);
    if (verdict.kind === 'no-endpoints') empty.push(b.service);
  }
  return { evidence, broken, empty, unknown };
}

function describe(v: BackendVerdict, namespace: string, b: RouteBackend): string {
  switch (v.kind) {
    case 'no-service':
      return `Service ${namespace}/${b.service} does not exist`;
    case 'no-port':
      return `${typeof b.port === 'number' ? `port.number ${b.port}` : `port.name "${b.port ?? ''}"`} is not a port of Service ${namespace}/${b.service} (its ports: ${v.ports})`;
    case 'no-endpoints':
      return `Service port ${v.port.name ?? v.port.port} has no ready endpoints`;
    case 'ok':
      return `Service port ${v.port.name ?? v.port.port} (${v.port.port}), ${v.ready} ready endpoint(s)`;
  }
}

function dedupe(backends: RouteBackend[]): RouteBackend[] {
  const seen = new Set<string>();
  return backends.filter((b) => {
    const key = `${b.service}:${b.port ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function suspect(detail: string, score: number): Suspect {
  return { category: 'ingress', score, detail, nodes: [] };
}
