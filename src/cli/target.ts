/** Validation of user-supplied targets (CLI flags now, Slack commands later). */
import { z } from 'zod';
import type { RouteRef } from '../cluster/north-south/types.js';
import type { Target } from '../cluster/view.js';
import { UsageError } from '../errors.js';

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dnsSubdomain = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const serviceRefSchema = z
  .string()
  .regex(/^[^/]+\/[^/]+$/, 'must be NAMESPACE/NAME')
  .refine(
    (s) => s.split('/').every((part) => dnsLabel.test(part)),
    'namespace and name must be DNS labels (lower-case letters, digits, "-", at most 63 characters)',
  );

export const nodeNameSchema = z.string().regex(dnsSubdomain, 'must be a node name (a DNS subdomain)');

/** `NAMESPACE/NAME` of the failing client: a Pod, Deployment, StatefulSet or DaemonSet. */
export const clientRefSchema = z
  .string()
  .regex(/^[^/]+\/[^/]+$/, 'must be NAMESPACE/NAME (a Pod, Deployment, StatefulSet or DaemonSet)')
  .refine((s) => {
    const [ns = '', name = ''] = s.split('/');
    return dnsLabel.test(ns) && dnsSubdomain.test(name);
  }, 'namespace must be a DNS label and name a DNS subdomain');

/** `NAMESPACE/NAME` of an Ingress or HTTPRoute (names are DNS subdomains). */
export const routeRefSchema = z
  .string()
  .regex(/^[^/]+\/[^/]+$/, 'must be NAMESPACE/NAME')
  .refine((s) => {
    const [ns = '', name = ''] = s.split('/');
    return dnsLabel.test(ns) && dnsSubdomain.test(name);
  }, 'namespace must be a DNS label and name a DNS subdomain');

/** The flag of each route kind, for messages. */
export const routeFlags = { Ingress: '--ingress', HTTPRoute: '--httproute' } as const;

export function parseRoute(kind: RouteRef['kind'], value: string): RouteRef {
  const parsed = routeRefSchema.safeParse(value);
  if (!parsed.success)
    throw new UsageError(`${routeFlags[kind]} "${value}": ${parsed.error.issues[0]?.message}`);
  const [namespace, name] = value.split('/') as [string, string];
  return { kind, namespace, name };
}

export function parseTarget(
  service: string | undefined,
  node: string | undefined,
  from?: string | undefined,
  route?: { kind: RouteRef['kind']; value: string } | undefined,
): Target | undefined {
  if (service === undefined && node === undefined && from === undefined && route === undefined)
    return undefined;
  const out: {
    namespace?: string;
    service?: string;
    node?: string;
    from?: { namespace: string; name: string };
    route?: RouteRef;
  } = {};
  if (route !== undefined) {
    if (service !== undefined)
      throw new UsageError(
        `${routeFlags[route.kind]} and --service exclude each other (the route names its Services)`,
      );
    out.route = parseRoute(route.kind, route.value);
  }
  if (from !== undefined) {
    const parsed = clientRefSchema.safeParse(from);
    if (!parsed.success) throw new UsageError(`--from "${from}": ${parsed.error.issues[0]?.message}`);
    const [namespace, name] = from.split('/') as [string, string];
    out.from = { namespace, name };
  }
  if (service !== undefined) {
    const parsed = serviceRefSchema.safeParse(service);
    if (!parsed.success) throw new UsageError(`--service "${service}": ${parsed.error.issues[0]?.message}`);
    const [namespace, name] = service.split('/') as [string, string];
    out.namespace = namespace;
    out.service = name;
  }
  if (node !== undefined) {
    const parsed = nodeNameSchema.safeParse(node);
    if (!parsed.success) throw new UsageError(`--node "${node}": ${parsed.error.issues[0]?.message}`);
    out.node = node;
  }
  return out;
}
