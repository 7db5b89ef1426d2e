/**
 * Impersonation on the lab: with `impersonation:` configured, the approved write carries
 * the approver's Kubernetes user and two groups (`Impersonate-Group`, one header line each),
 * and the real authorizer decides. kproxy-actions may impersonate exactly these people
 * (deploy/optional/impersonation.yaml, its resourceNames set to them, bound as its comment
 * says); the right to cordon is granted only to the second group of one of them.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { flushRedis, type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import type { BotStack } from '../helpers/stack.js';
import { approve, auditOf, labStack, reportFor, requestAction } from './action-helpers.js';
import { kproxyIdentities, setNetworkUnavailable } from './action-lab.js';
import { deploymentAndService, podsWithReady } from './fault-helpers.js';
import { admin, asList } from './lab-helpers.js';

const lab = inject('lab');
const ns = 'kproxy-actions-impersonation';
const node = lab.nodeNames[0] as string;
const repoRoot = path.resolve(import.meta.dirname, '../..');
/** Two approvers (Slack ids) and who they are in the cluster. */
const alice = {
  slack: 'U0ALICE001',
  user: 'alice@example.com',
  groups: ['sre-oncall', 'kproxy-lab-node-operators'],
};
const bob = { slack: 'U0BOB00001', user: 'bob@example.com', groups: ['sre-oncall', 'kproxy-lab-viewers'] };
const people = [alice, bob];
let dir: string;
let kubeconfig: string;
let redis: RedisServer;
let stack: BotStack | undefined;

/** The optional ClusterRole as shipped, narrowed to the test's people, and bound to kproxy-actions. */
async function impersonationGrant(): Promise<unknown[]> {
  const role = parseYaml(
    await readFile(path.join(repoRoot, 'deploy/optional/impersonation.yaml'), 'utf8'),
  ) as {
    metadata: { name: string };
    rules: { resourceNames?: string[] }[];
  };
  for (const rule of role.rules)
    rule.resourceNames = [...new Set(people.flatMap((p) => [p.user, ...p.groups]))];
  return [
    role,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: role.metadata.name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name },
      subjects: [{ kind: 'ServiceAccount', name: 'kproxy-actions', namespace: 'kproxy' }],
    },
  ];
}

/** The cluster's own rule: cordoning is for the node operators group. */
const nodeOperators = [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'kproxy-lab-node-operators' },
    rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'kproxy-lab-node-operators' },
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'kproxy-lab-node-operators',
    },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kproxy-lab-node-operators' }],
  },
];
let granted: unknown[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kproxy-actions-'));
  kubeconfig = await kproxyIdentities(lab, path.join(dir, 'identities.kubeconfig'));
  granted = [...(await impersonationGrant()), ...nodeOperators];
  await admin(lab, ['apply', '-f', '-'], asList(granted));
  await admin(lab, ['create', 'namespace', ns]);
  await admin(
    lab,
    ['apply', '-f', '-'],
    asList(deploymentAndService({ ns, name: 'web', labels: { app: 'web' } })),
  );
  await podsWithReady(lab, ns, 'app=web', 'True', 2);
  await setNetworkUnavailable(lab, node, true);
  redis = await startRedisServer();
});

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  await flushRedis(redis.url);
});

afterAll(async () => {
  await setNetworkUnavailable(lab, node, false).catch(() => undefined);
  await admin(lab, ['uncordon', node]).catch(() => undefined);
  await admin(lab, ['delete', '-f', '-', '--ignore-not-found'], asList(granted)).catch(() => undefined);
  await admin(lab, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const config = [
  'approvals:',
  `  yellow: { approvers: { users: [${people.map((p) => p.slack).join(', ')}] }, required: 1 }`,
  'impersonation:',
  ...people.map((p) => `  ${p.slack}: { user: ${p.user}, groups: [${p.groups.join(', ')}] }`),
].join('\n');

const unschedulable = () =>
  admin(lab, ['get', 'node', node, '-o', 'jsonpath={.spec.unschedulable}']).then((v) => v === 'true');

/** Alice asks for a cordon from a fresh report; `who` approves it. */
async function cordonApprovedBy(s: BotStack, who: typeof alice, asker: typeof alice) {
  const r = await reportFor(s, `${ns}/web --node ${node}`, asker.slack);
  const request = await requestAction(s, r, 'cordon-node', undefined, asker.slack);
  return { request, outcome: await approve(s, request, 'cordon-node', { user: who.slack }) };
}

describe('impersonation on the lab: the cluster decides what each approver may do', () => {
  it('an approver whose groups hold no right is refused by the cluster itself (403), and nothing changes', async () => {
    stack = await labStack({ redisUrl: redis.url, kubeconfig, extraConfig: config });
    const { request, outcome } = await cordonApprovedBy(stack, bob, alice);
    // The apiserver let kproxy-actions act as bob and both his groups, then refused bob.
    expect(outcome).toBe(
      `:x: \`cordon-node\` failed: PATCH Node ${node} spec.unschedulable=true: the cluster refused the approver's identity ${bob.user} (groups ${bob.groups.join(', ')}): forbidden: patch nodes (RBAC: grant "patch" on nodes). Not retried: check the cluster before trying again.`,
    );
    expect(await unschedulable()).toBe(false);
    const audit = await auditOf(stack, request.approvalId);
    expect(audit.map((e) => e.type)).toEqual(['requested', 'approval', 'approved', 'executing', 'failed']);
    expect(audit.at(-1)?.detail).toContain(`the cluster refused the approver's identity ${bob.user}`);
  });

  it('an approver whose second group holds the right cordons the node, as themself', async () => {
    stack = await labStack({ redisUrl: redis.url, kubeconfig, extraConfig: config });
    const { request, outcome } = await cordonApprovedBy(stack, alice, bob);
    expect(outcome).toContain(`• PATCH Node ${node} spec.unschedulable=true`);
    expect(await unschedulable()).toBe(true);
    const audit = await auditOf(stack, request.approvalId);
    expect(audit.map((e) => [e.type, e.by])).toEqual([
      ['requested', bob.slack],
      ['approval', alice.slack],
      ['approved', alice.slack],
      ['executing', expect.stringMatching(/^worker-/)],
      ['done', expect.stringMatching(/^worker-/)],
    ]);
  });
});
