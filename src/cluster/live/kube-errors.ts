/**
 * Why a request to the API server failed, in words an operator can act on. A 403 is not
 * always RBAC: Pod Security admission, admission webhooks and quota also answer 403
 * (`reason: Forbidden`), so "grant …" is said only when the Status message is an RBAC
 * denial, and names the verb the server denied (which, for a WebSocket exec, may be `get`
 * or `create`), never one the identity already has.
 */
import type { ApiCall } from './kube-http.js';

export function describe(call: ApiCall): string {
  return `${call.verb} ${call.resource}${call.namespace ? ` in ${call.namespace}` : ''}`;
}

interface StatusBody {
  kind?: string;
  reason?: string;
  message?: string;
  /** A cause's machine-readable type is serialized as `reason` (metav1.StatusCause). */
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** A `kind: Status` body, or undefined when the body is something else (a proxied backend's). */
export function statusOf(body: string): StatusBody | undefined {
  try {
    const doc = JSON.parse(body) as StatusBody | null;
    return doc && typeof doc === 'object' && doc.kind === 'Status' ? doc : undefined;
  } catch {
    return undefined;
  }
}

/** The messages of a Status body's `details.causes` of one type (e.g. `DisruptionBudget`). */
export function statusCauses(body: string | undefined, type: string): string[] {
  const causes = (body && statusOf(body)?.details?.causes) || [];
  return causes
    .filter((c) => c?.reason === type && typeof c.message === 'string')
    .map((c) => c.message as string);
}

/**
 * The authorizer's denial (k8s.io/apiserver responsewriters/errors.go `forbiddenMessage`):
 * `User "u" cannot VERB resource "RES[/SUB]" in API group "G" …`.
 */
const rbacDenial = /cannot (\S+) resource "([^"]+)" in API group "([^"]*)"/;

export function refusal(status: number, body: string, call: ApiCall): string {
  const s = statusOf(body);
  const message = s?.message ?? body.slice(0, 200).trim();
  switch (status) {
    case 403: {
      const rbac = rbacDenial.exec(message);
      if (rbac) {
        const [, verb, resource, group] = rbac as unknown as [string, string, string, string];
        const res = group
          ? `${resource.replace(/\/.*/, '')}.${group}${resource.match(/\/.*/)?.[0] ?? ''}`
          : resource;
        return `forbidden: ${describe({ ...call, verb, resource: res })} (RBAC: grant "${verb}" on ${res})`;
      }
      if (!s)
        return `forbidden: ${describe(call)} (HTTP 403 without a Kubernetes Status${message ? `: ${message}` : ''})`;
      return `forbidden: ${describe(call)}: ${s.reason ?? 'Forbidden'}: ${message}`;
    }
    case 401:
      return `unauthorized: the API server rejected kproxy's credentials (${describe(call)})`;
    case 404:
      return `not found: ${describe(call)}`;
    case 400:
      return `bad request: ${describe(call)}: ${message}`;
    default:
      return `API server answered ${status} to ${describe(call)}${message ? `: ${message}` : ''}`;
  }
}

export function explain(error: unknown, call: ApiCall): string {
  const e = error as {
    name?: string;
    message?: string;
    code?: string;
    cause?: { code?: string; message?: string };
  };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.message === 'timeout')
    return `timeout: ${describe(call)} took longer than the limit`;
  const code = e?.cause?.code ?? e?.code;
  return `connection failed (${code ?? e?.cause?.message ?? e?.message ?? 'unknown error'}): ${describe(call)}`;
}
