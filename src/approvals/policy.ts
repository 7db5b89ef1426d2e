/** Who may approve what: approvers per safety rating and per cluster (a cluster may override). */
import type { ApprovalPolicy, Config } from '../config/config.js';
import type { SafetyRating } from './actions.js';

export function policyFor(
  config: Config,
  cluster: string,
  safety: Exclude<SafetyRating, 'GREEN'>,
): ApprovalPolicy {
  const own = config.clusters.find((c) => c.name === cluster)?.approvals;
  const policies = own ?? config.approvals;
  return safety === 'RED' ? policies.red : policies.yellow;
}

/**
 * Whether a Slack user may approve: listed by id, or a member of a listed user group
 * (`groups` are the user's group ids, resolved from Slack by the caller). Nobody is an
 * approver by default.
 */
export function mayApprove(policy: ApprovalPolicy, user: string, groups: readonly string[]): boolean {
  return policy.approvers.users.includes(user) || groups.some((g) => policy.approvers.groups.includes(g));
}
