/**
 * RBAC evaluation for the test API server, as the real authorizer does it
 * (kubernetes/kubernetes plugin/pkg/auth/authorizer/rbac/rbac.go `RuleAllows`, and
 * pkg/apis/rbac/v1/evaluation_helpers.go `VerbMatches`, `APIGroupMatches`,
 * `ResourceMatches`, `ResourceNameMatches`, `NonResourceURLMatches`): a request is allowed
 * when one rule of a role bound to the user matches verb, group, resource (with its
 * subresource, `pods/exec`), name, and for a Role, the namespace it lives in.
 *
 * Discovery (`/api`, `/apis`, `/version`, `/openapi`, `/healthz`) is open to every
 * authenticated user through the `system:discovery` and `system:public-info-viewer`
 * ClusterRoleBindings (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go).
 */
import type { RequestAttributes } from './status.js';

export interface PolicyRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
  readonly verbs: readonly string[];
}

/** The rules of one bound role: a Role (namespace set) or a ClusterRole (namespace unset). */
export interface Grant {
  readonly namespace?: string;
  readonly rules: readonly PolicyRule[];
}

const discovery = /^\/(api|apis|version|openapi|healthz|livez|readyz)(\/|$)/;

export function allows(grants: readonly Grant[], attrs: RequestAttributes, verb = attrs.verb): boolean {
  if (!attrs.resource && verb === 'get' && discovery.test(attrs.path)) return true;
  return grants.some(
    (g) =>
      (g.namespace === undefined || g.namespace === attrs.namespace) &&
      g.rules.some((r) => ruleAllows(r, attrs, verb)),
  );
}

function ruleAllows(rule: PolicyRule, attrs: RequestAttributes, verb: string): boolean {
  if (!has(rule.verbs, verb)) return false;
  if (!attrs.resource)
    return (rule.nonResourceURLs ?? []).some(
      (u) => u === '*' || u === attrs.path || (u.endsWith('*') && attrs.path.startsWith(u.slice(0, -1))),
    );
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const resources = rule.resources ?? [];
  const resourceMatches =
    resources.includes('*') ||
    resources.includes(resource) ||
    (attrs.subresource !== undefined && resources.includes(`*/${attrs.subresource}`));
  return (
    has(rule.apiGroups ?? [], attrs.group) &&
    resourceMatches &&
    ((rule.resourceNames ?? []).length === 0 || (rule.resourceNames ?? []).includes(attrs.name ?? ''))
  );
}

const has = (list: readonly string[], value: string) => list.includes('*') || list.includes(value);
