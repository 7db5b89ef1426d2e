/**
 * How the test API server answers a refusal: a `kind: Status` body, with the request
 * attributes and messages the real API server derives.
 *
 * - Request attributes: k8s.io/apiserver pkg/endpoints/request/requestinfo.go
 *   (`RequestInfoFactory.NewRequestInfo`): the verb comes from the HTTP method (GET on a
 *   name is `get`, on a collection `list`; POST `create`; PATCH `patch`; DELETE `delete`),
 *   and `/api/v1/namespaces/NS/pods/NAME/exec` is resource `pods`, subresource `exec`.
 * - RBAC denials: k8s.io/apiserver pkg/endpoints/handlers/responsewriters/errors.go
 *   (`forbiddenMessage`, `Forbidden`) wrapped by apimachinery `errors.NewForbidden`:
 *   `pods "x" is forbidden: User "u" cannot get resource "pods/exec" in API group "" in the namespace "ns"`.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(): string {
    return JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: this.extra.metadata ?? {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.extra.details ? { details: this.extra.details } : {}),
      code: this.status,
    });
  }
}

export interface RequestAttributes {
  readonly verb: string;
  /** `pods`, `nodes`, `daemonsets`; undefined for a non-resource URL (`/version`). */
  readonly resource?: string;
  readonly subresource?: string;
  readonly group: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly path: string;
}

const verbs: Readonly<Record<string, string>> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

/** requestinfo.go for the paths this server serves (core `/api/v1` and `/apis/GROUP/VERSION`). */
export function requestAttributes(method: string, path: string): RequestAttributes {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/(.*)$/.exec(path);
  if (!m)
    return { verb: method === 'GET' ? 'get' : (verbs[method] ?? method.toLowerCase()), group: '', path };
  const group = m[1] ?? '';
  let parts = (m[2] as string).split('/');
  let namespace: string | undefined;
  if (parts[0] === 'namespaces' && parts.length >= 3) {
    namespace = parts[1];
    parts = parts.slice(2);
  } else if (parts[0] === 'namespaces' && parts.length === 2) {
    parts = ['namespaces', parts[1] as string];
  }
  const [resource, name, subresource] = parts;
  const verb = method === 'GET' ? (name ? 'get' : 'list') : (verbs[method] ?? method.toLowerCase());
  return {
    verb,
    group,
    path,
    ...(resource ? { resource } : {}),
    ...(name ? { name } : {}),
    ...(subresource ? { subresource } : {}),
    ...(namespace ? { namespace } : {}),
  };
}

/** The user the test server's kubeconfig authenticates as. */
export const servedUser = 'system:serviceaccount:kproxy:kproxy-worker';

/**
 * An RBAC denial of `attrs` (with `verb` overriding, for the compound exec check), for the
 * served user or, under impersonation, the impersonated one.
 */
export function forbidden(attrs: RequestAttributes, verb = attrs.verb, user = servedUser): HttpError {
  if (!attrs.resource)
    return new HttpError(403, 'Forbidden', `forbidden: User "${user}" cannot ${verb} path "${attrs.path}"`);
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const where = attrs.namespace ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
  const qualified = attrs.group ? `${attrs.resource}.${attrs.group}` : attrs.resource;
  const subject = attrs.name ? `${qualified} "${attrs.name}"` : qualified;
  return new HttpError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${attrs.group}" ${where}`,
    { details: { ...(attrs.name ? { name: attrs.name } : {}), group: attrs.group, kind: attrs.resource } },
  );
}

/** The same denial for a resource named by its RBAC string (`endpointslices.discovery.k8s.io`). */
export function forbiddenResource(verb: string, resource: string, namespace: string | undefined): HttpError {
  const [plural, group = ''] = resource.split(/\.(.*)/s, 2) as [string, string?];
  const [base, sub] = plural.split('/', 2) as [string, string?];
  return forbidden({
    verb,
    resource: base,
    group,
    path: '',
    ...(sub ? { subresource: sub } : {}),
    ...(namespace ? { namespace } : {}),
  });
}

/**
 * A proxied backend that does not answer: apimachinery pkg/util/proxy/transport.go wraps
 * the dial error as `errors.NewServiceUnavailable("error trying to reach service: …")`.
 */
export function unreachable(address: string): HttpError {
  return new HttpError(
    503,
    'ServiceUnavailable',
    `error trying to reach service: dial tcp ${address}: connect: connection refused`,
  );
}

/**
 * Pod Security admission's refusal (k8s.io/pod-security-admission admission.go:
 * `forbidden: violates PodSecurity "LEVEL:VERSION": …`), a 403 that is not RBAC.
 */
export function podSecurityDenied(name: string, level = 'baseline'): HttpError {
  return new HttpError(
    403,
    'Forbidden',
    `pods "${name}" is forbidden: violates PodSecurity "${level}:latest": host namespaces (hostNetwork=true, hostPID=true), privileged (container "capture" must not set securityContext.privileged=true)`,
    { details: { name, kind: 'pods' } },
  );
}
