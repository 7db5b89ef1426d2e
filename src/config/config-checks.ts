/**
 * Checks across keys that the schema cannot express: configurations that could never work
 * or would be unsafe are refused at start-up and by `kproxy config check`, each problem
 * named by its key path.
 */
import { access, constants } from 'node:fs/promises';
import type { ApprovalPolicy, Config } from './config.js';
import type { Problem } from './problems.js';

const ratings = ['yellow', 'red'] as const;

/** Problems in a parsed configuration; `doc` is the YAML as written (which keys were set). */
export function crossKeyProblems(doc: unknown, config: Config): Problem[] {
  const problems: Problem[] = [];
  config.pagerduty?.services.forEach((s, i) => {
    const cluster = config.clusters.find((c) => c.name === s.cluster);
    if (cluster && !cluster.channels.includes(s.channel))
      problems.push({
        path: ['pagerduty', 'services', i, 'channel'],
        message: `${s.channel} is not one of cluster "${s.cluster}"'s channels (its reports and action buttons would be posted where that cluster may not be diagnosed)`,
      });
  });
  const written = doc as {
    approvals?: Record<string, unknown>;
    clusters?: { approvals?: Record<string, unknown> }[];
  } | null;
  type Written = [
    readonly (string | number)[],
    Record<string, unknown> | undefined,
    Config['approvals'] | undefined,
  ];
  const policies: Written[] = [
    [['approvals'], written?.approvals, config.approvals],
    ...config.clusters.map(
      (c, i): Written => [['clusters', i, 'approvals'], written?.clusters?.[i]?.approvals, c.approvals],
    ),
  ];
  for (const [where, raw, parsed] of policies) {
    if (!raw || !parsed) continue;
    for (const rating of ratings) {
      // Only ratings written down: an unset rating means "no actions of that rating".
      if (raw[rating] === undefined) continue;
      const problem = policyProblem(parsed[rating]);
      if (problem) problems.push({ path: [...where, rating], message: problem });
    }
  }
  return problems;
}

function policyProblem(policy: ApprovalPolicy): string | undefined {
  const { users, groups } = policy.approvers;
  if (users.length === 0 && groups.length === 0)
    return 'no approvers: name users or user groups (nobody could ever approve)';
  // With groups the size is known only to Slack; with users alone it is known here.
  if (groups.length === 0 && policy.required > users.length)
    return `required is ${policy.required} but only ${users.length} approver(s) are named`;
  return undefined;
}

/** Files the configuration names must exist and be readable (kubeconfig paths). */
export async function fileProblems(config: Config): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const [i, cluster] of config.clusters.entries()) {
    if (!cluster.kubeconfig) continue;
    try {
      await access(cluster.kubeconfig.path, constants.R_OK);
    } catch (error) {
      problems.push({
        path: ['clusters', i, 'kubeconfig', 'path'],
        message: `cannot read ${cluster.kubeconfig.path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      });
    }
  }
  return problems;
}
