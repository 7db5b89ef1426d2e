/**
 * The north-south objects kproxy reads (issue 18 §4), as zod schemas over `kubectl get -o
 * json`: Ingress and IngressClass (networking.k8s.io/v1), HTTPRoute
 * (gateway.networking.k8s.io/v1), and the AWS Load Balancer Controller's
 * TargetGroupBinding (elbv2.k8s.aws/v1beta1). Loose, like kube-types.ts: only what the
 * checks read is typed.
 */
import { z } from 'zod';
import { lazy } from '../../lazy.js';
import { objectMetaSchema } from '../kube-types.js';

/** Built on first use (`ingressSchema()`): only a diagnosis of an Ingress reads one. */
export const ingressSchema = lazy(() => {
  /** networking.k8s.io/v1 ServiceBackendPort: a number or a name, exactly one of them. */
  const backendPortSchema = z.looseObject({ number: z.number().nullish(), name: z.string().nullish() });

  const ingressBackendSchema = z.looseObject({
    service: z.looseObject({ name: z.string(), port: backendPortSchema.nullish() }).nullish(),
    resource: z.looseObject({ kind: z.string(), name: z.string() }).nullish(),
  });

  const lbStatusSchema = z
    .looseObject({
      ingress: z.array(z.looseObject({ ip: z.string().nullish(), hostname: z.string().nullish() })).nullish(),
    })
    .nullish();

  return z.looseObject({
    kind: z.literal('Ingress').optional(),
    metadata: objectMetaSchema,
    spec: z.looseObject({
      ingressClassName: z.string().nullish(),
      defaultBackend: ingressBackendSchema.nullish(),
      rules: z
        .array(
          z.looseObject({
            host: z.string().nullish(),
            http: z
              .looseObject({
                paths: z.array(z.looseObject({ path: z.string().nullish(), backend: ingressBackendSchema })),
              })
              .nullish(),
          }),
        )
        .nullish(),
    }),
    status: z.looseObject({ loadBalancer: lbStatusSchema }).nullish(),
  });
});

export const ingressClassSchema = z.looseObject({
  kind: z.literal('IngressClass').optional(),
  metadata: objectMetaSchema,
  spec: z.looseObject({ controller: z.string().nullish() }).nullish(),
});

/** Built on first use (`httpRouteSchema()`): only a diagnosis of an HTTPRoute reads one. */
export const httpRouteSchema = lazy(() =>
  z.looseObject({
    kind: z.literal('HTTPRoute').optional(),
    metadata: objectMetaSchema,
    spec: z.looseObject({
      parentRefs: z
        .array(
          z.looseObject({ name: z.string(), namespace: z.string().nullish(), kind: z.string().nullish() }),
        )
        .nullish(),
      rules: z
        .array(
          z.looseObject({
            backendRefs: z
              .array(
                z.looseObject({
                  name: z.string(),
                  namespace: z.string().nullish(),
                  kind: z.string().nullish(),
                  group: z.string().nullish(),
                  port: z.number().nullish(),
                }),
              )
              .nullish(),
          }),
        )
        .nullish(),
    }),
  }),
);

export const targetGroupBindingSchema = z.looseObject({
  kind: z.literal('TargetGroupBinding').optional(),
  metadata: objectMetaSchema,
  spec: z.looseObject({
    targetGroupARN: z.string().nullish(),
    targetType: z.string().nullish(),
    serviceRef: z.looseObject({ name: z.string(), port: z.union([z.number(), z.string()]) }),
  }),
});

export type Ingress = z.infer<ReturnType<typeof ingressSchema>>;
export type IngressClass = z.infer<typeof ingressClassSchema>;
export type HttpRoute = z.infer<ReturnType<typeof httpRouteSchema>>;
export type TargetGroupBinding = z.infer<typeof targetGroupBindingSchema>;

/** What a route targets: Ingress or HTTPRoute `namespace/name`. */
export interface RouteRef {
  readonly kind: 'Ingress' | 'HTTPRoute';
  readonly namespace: string;
  readonly name: string;
}

/** One backend of a route: a Service and the port the route sends to (number or name). */
export interface RouteBackend {
  readonly service: string;
  readonly port: number | string | undefined;
  /** Where in the route ("rules[0].http.paths[1]", "defaultBackend"), for the evidence. */
  readonly at: string;
}

/**
 * The backends of a route, in the route's order (Ingress: defaultBackend, then every path;
 * HTTPRoute: every Service backendRef). Resource backends and other kinds are left out:
 * kproxy checks Services only.
 */
export function routeBackends(route: Ingress | HttpRoute, kind: RouteRef['kind']): RouteBackend[] {
  if (kind === 'Ingress') {
    const spec = (route as Ingress).spec;
    const out: RouteBackend[] = [];
    const svc = spec.defaultBackend?.service;
    if (svc)
      out.push({
        service: svc.name,
        port: svc.port?.number ?? svc.port?.name ?? undefined,
        at: 'defaultBackend',
      });
    (spec.rules ?? []).forEach((rule, r) => {
      (rule.http?.paths ?? []).forEach((p, i) => {
        const s = p.backend.service;
        if (s)
          out.push({
            service: s.name,
            port: s.port?.number ?? s.port?.name ?? undefined,
            at: `rules[${r}]${rule.host ? ` (${rule.host})` : ''}.http.paths[${i}]${p.path ? ` ${p.path}` : ''}`,
          });
      });
    });
    return out;
  }
  const out: RouteBackend[] = [];
  ((route as HttpRoute).spec.rules ?? []).forEach((rule, r) => {
    (rule.backendRefs ?? []).forEach((b, i) => {
      // Gateway API: a backendRef without kind/group is a core Service (BackendObjectReference
      // defaults). One in another namespace needs a ReferenceGrant kproxy does not read: left out.
      if ((b.kind ?? 'Service') !== 'Service' || (b.group ?? '') !== '') return;
      if (b.namespace && b.namespace !== route.metadata.namespace) return;
      out.push({ service: b.name, port: b.port ?? undefined, at: `rules[${r}].backendRefs[${i}]` });
    });
  });
  return out;
}
