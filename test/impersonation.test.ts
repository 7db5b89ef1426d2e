/**
 * Writes made as the approver (`impersonation:`), against a test API server that decides
 * them as the apiserver does: kproxy's own identity must be allowed to impersonate the user
 * and each group, then the write is authorized as the impersonated user and its groups.
 * The lab showed the same on the real thing (test/cluster/actions-impersonation.test.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { executePlan, planAction } from '../src/approvals/executors.js';
import type { Grant, PolicyRule } from '../src/testserver/rbac.js';
import { bundlesDir } from './helpers/bundles.js';
import { type Served, serve } from './helpers/live.js';
import { deployGrants } from './helpers/rbac.js';

const n2 = 'ip-10-0-2-45.ec2.internal';
const alice = { user: 'alice@example.com', groups: ['sre-oncall', 'node-operators'] };
const bob = { user: 'bob@example.com', groups: ['sre-oncall', 'viewers'] };
let served: Served | undefined;
afterEach(async () => {
  await served?.stop();
  served = undefined;
});

/** deploy/optional/impersonation.yaml, its resourceNames set to these people and their groups. */
function impersonationGrant(people: readonly (typeof alice)[]): Grant {
  const file = path.resolve(import.meta.dirname, '../deploy/optional/impersonation.yaml');
  const role = parseYaml(readFileSync(file, 'utf8')) as { rules: PolicyRule[] };
  const names = [...new Set(people.flatMap((p) => [p.user, ...p.groups]))];
  return { rules: role.rules.map((r) => ({ ...r, resourceNames: names })) };
}

/** Cordon as `as`, on a server whose RBAC binds kproxy-actions' roles plus `extra`. */
async function cordonAs(as: typeof alice, extra: Grant[]) {
  served = await serve(path.join(bundlesDir, 'stale-endpoints'), {
    rbac: [...deployGrants('kproxy-actions', 'kproxy-actions-nodes'), ...extra],
    // The cluster's own binding: cordoning is for the node-operators group.
    impersonatedRbac: {
      'node-operators': [{ rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['patch'] }] }],
    },
  });
  const http = served.source().http;
  const plan = await planAction({ http }, { action: 'cordon-node', node: n2 });
  if (!plan.ok) throw new Error(plan.reason);
  return executePlan({ http }, plan.value, as);
}

describe('writes as the approver (impersonation)', () => {
  it('without the right to impersonate them, kproxy says its own identity lacks it, and nothing is written', async () => {
    expect(await cordonAs(bob, [])).toEqual({
      ok: false,
      done: [],
      error: `PATCH Node ${n2} spec.unschedulable=true: kproxy's own identity may not act as bob@example.com (groups sre-oncall, viewers): forbidden: impersonate users (RBAC: grant "impersonate" on users)`,
    });
    expect(served?.server.mutations).toEqual([]);
  });

  it('an approver whose groups hold no right is refused by the cluster, and the refusal names them', async () => {
    expect(await cordonAs(bob, [impersonationGrant([alice, bob])])).toEqual({
      ok: false,
      done: [],
      error: `PATCH Node ${n2} spec.unschedulable=true: the cluster refused the approver's identity bob@example.com (groups sre-oncall, viewers): forbidden: patch nodes (RBAC: grant "patch" on nodes)`,
    });
    expect(served?.server.mutations).toEqual([]);
  });

  it('an approver whose second group holds the right writes, as themself', async () => {
    const result = await cordonAs(alice, [impersonationGrant([alice, bob])]);
    expect(result).toEqual({ ok: true, done: [`PATCH Node ${n2} spec.unschedulable=true`] });
    expect(served?.server.mutations[0]?.impersonate).toEqual(alice);
  });

  it('impersonating a group not listed for kproxy is refused by name', async () => {
    const result = await cordonAs(alice, [impersonationGrant([bob])]);
    expect(result.error).toContain(
      "kproxy's own identity may not act as alice@example.com (groups sre-oncall, node-operators): forbidden: impersonate users",
    );
  });
});
