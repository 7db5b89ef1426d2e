/**
 * Node actions executed against the real apiserver after a real two-person approval
 * through the bot: kproxy-worker's live diagnosis of a node whose network is unavailable
 * (`node_network`, which offers cordon and drain), kproxy-actions' dry run and writes. The
 * drain meets real PodDisruptionBudgets: the Eviction API's real 429s, one budget that
 * admits the eviction once the replacement pod is Ready, one that never does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { flushRedis, type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import type { BotStack } from '../helpers/stack.js';
import {
  approve,
  approver,
  auditOf,
  labStack,
  postFixCheck,
  reportFor,
  requestAction,
  requester,
} from './action-helpers.js';
import { kproxyIdentities, setNetworkUnavailable } from './action-lab.js';
import { deploymentAndService, podsWithReady } from './fault-helpers.js';
import { admin, asList, eventually } from './lab-helpers.js';

const lab = inject('lab');
const ns = 'kproxy-actions-nodes';
const [other, node] = lab.nodeNames as [string, string];
let dir: string;
let kubeconfig: string;
let redis: RedisServer;
let stack: BotStack | undefined;

const pdb = (name: string, minAvailable: number) => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name, namespace: ns },
  spec: { minAvailable, selector: { matchLabels: { app: name } } },
});

/** `name node` of the pods of `app`. */
async function placement(app: string): Promise<string[]> {
  const out = await admin(lab, [
    'get',
    'pods',
    '-n',
    ns,
    '-l',
    `app=${app}`,
    '-o',
    'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{"\\n"}{end}',
  ]);
  return out.split('\n').filter(Boolean).sort();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kproxy-actions-'));
  kubeconfig = await kproxyIdentities(lab, path.join(dir, 'identities.kubeconfig'));
  await admin(lab, ['create', 'namespace', ns]);
  // Every pod of the workloads on `node`: the other node is cordoned while they are scheduled.
  await admin(lab, ['cordon', other]);
  try {
    const db = deploymentAndService({ ns, name: 'db', labels: { app: 'db' }, replicas: 1 }).slice(0, 1);
    await admin(
      lab,
      ['apply', '-f', '-'],
      asList([
        ...deploymentAndService({ ns, name: 'web', labels: { app: 'web' } }),
        ...db,
        // web can lose one of its two pods; db cannot lose its only one.
        pdb('web', 1),
        pdb('db', 1),
      ]),
    );
    await podsWithReady(lab, ns, 'app=web', 'True', 2);
    await podsWithReady(lab, ns, 'app=db', 'True', 1);
  } finally {
    await admin(lab, ['uncordon', other]);
  }
  for (const app of ['web', 'db']) for (const row of await placement(app)) expect(row).toMatch(` ${node}`);
  await setNetworkUnavailable(lab, node, true);
  redis = await startRedisServer();
});

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  await flushRedis(redis.url);
  await admin(lab, ['uncordon', node]);
});

afterAll(async () => {
  await setNetworkUnavailable(lab, node, false).catch(() => undefined);
  await admin(lab, ['uncordon', node]).catch(() => undefined);
  // The drain may have evicted a lab CoreDNS pod: the lab is left with its replacement Ready.
  await admin(lab, ['rollout', 'status', 'deployment/coredns', '-n', 'kube-system', '--timeout=120s']).catch(
    () => undefined,
  );
  await admin(lab, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const unschedulable = () =>
  admin(lab, ['get', 'node', node, '-o', 'jsonpath={.spec.unschedulable}']).then((v) => v === 'true');

describe('node actions on the lab, after a real approval', () => {
  it('cordon-node: the node is cordoned; the post-fix check says the node fault remains', async () => {
    stack = await labStack({ redisUrl: redis.url, kubeconfig });
    const s = stack;
    const r = await reportFor(s, `${ns}/web --node ${node}`);
    expect(r.report.text).toContain('node_network');
    const request = await requestAction(s, r, 'cordon-node');
    expect(request.dryRun).toContain(`PATCH Node ${node} spec.unschedulable=true`);
    expect(await unschedulable()).toBe(false);
    const executed = await approve(s, request, 'cordon-node');
    expect(executed).toContain(`• PATCH Node ${node} spec.unschedulable=true`);
    expect(await unschedulable()).toBe(true);
    // Cordoning moves nothing and the route is still missing: honest, not "cleared".
    expect(await postFixCheck(s, request.message.thread_ts as string)).toMatch(
      new RegExp(
        `^:warning: Post-fix check: \`node_network\` is still the root cause — node-level failure on ${node}: NetworkUnavailable`,
      ),
    );
    const audit = await auditOf(s, request.approvalId);
    expect(audit.map((e) => [e.type, e.by])).toEqual([
      ['requested', requester],
      ['approval', approver],
      ['approved', approver],
      ['executing', expect.stringMatching(/^worker-/)],
      ['done', expect.stringMatching(/^worker-/)],
    ]);
    expect(audit.at(-1)?.detail).toBe(`PATCH Node ${node} spec.unschedulable=true`);
  });

  it('drain-node (RED): real 429s from the Eviction API are retried as kubectl drain does, and a budget that never allows it is named', async () => {
    const [web, db] = [await placement('web'), await placement('db')];
    const name = (row: string | undefined) => row?.split(' ')[0] as string;
    stack = await labStack({ redisUrl: redis.url, kubeconfig });
    const s = stack;
    const r = await reportFor(s, `${ns}/web --node ${node}`);
    const reason = `The route of ${node} is gone (NetworkUnavailable); replacing the node.`;
    const request = await requestAction(s, r, 'drain-node', reason);
    for (const row of [...web, ...db]) expect(request.dryRun).toContain(`EVICT Pod ${ns}/${name(row)}`);
    const outcome = await approve(s, request, 'drain-node', { confirm: node });

    // web's first eviction takes its budget's one disruption; the second is refused (429)
    // until the replacement is Ready on the other node, then admitted on a retry. db's
    // budget never allows its only pod to go: refused on every try, and named.
    expect(outcome).toContain(
      `:x: \`drain-node\` failed: EVICT Pod ${ns}/${name(db[0])}: still refused by a PodDisruptionBudget after 6 tries: The disruption budget db needs 1 healthy pods and has 1 currently`,
    );
    // (How the first refusal reads depends on whether the disruption controller had recounted
    // the budget yet: eviction.go disruptionDeniedMessage.)
    // (Other pods on the node, e.g. the lab's CoreDNS, are evicted too: listed after these.)
    expect(outcome).toContain(
      `done before: PATCH Node ${node} spec.unschedulable=true; EVICT Pod ${ns}/${name(web[0])}; EVICT Pod ${ns}/${name(web[1])} (admitted on a retry; first refused: The disruption budget web `,
    );
    expect(await unschedulable()).toBe(true);
    // The ReplicaSet replaced web's pods on the other node; db's pod is where it was.
    await eventually('web running on the other node', async () => {
      const rows = await placement('web');
      return rows.length === 2 && rows.every((row) => row.endsWith(` ${other}`)) ? rows : undefined;
    });
    await podsWithReady(lab, ns, 'app=web', 'True', 2);
    expect(await placement('db')).toEqual(db);

    const audit = await auditOf(s, request.approvalId);
    expect(audit.map((e) => e.type)).toEqual(['requested', 'approval', 'approved', 'executing', 'failed']);
    expect(audit[0]?.detail).toContain(reason);
    expect(audit.at(-1)?.detail).toContain(
      'The disruption budget db needs 1 healthy pods and has 1 currently',
    );
  });

  it('drain-node (RED) once nothing blocks it: every eviction admitted, then kproxy waits until the pods are gone', async () => {
    // The operator lifts the budget that blocked the first drain; db's pod is still on the node.
    await admin(lab, ['delete', 'pdb', '-n', ns, 'db']);
    const db = await placement('db');
    expect(db).toHaveLength(1);
    const name = (db[0] as string).split(' ')[0] as string;
    stack = await labStack({ redisUrl: redis.url, kubeconfig });
    const s = stack;
    const r = await reportFor(s, `${ns}/web --node ${node}`);
    const request = await requestAction(
      s,
      r,
      'drain-node',
      `db is the last workload on ${node}; replacing the node.`,
    );
    expect(request.dryRun).toContain(`EVICT Pod ${ns}/${name}`);
    const outcome = await approve(s, request, 'drain-node', { confirm: node });
    expect(outcome).toContain(`• EVICT Pod ${ns}/${name}`);
    // kwok finished the evicted pod (the kubelet's part), and kproxy saw it gone (drain.go waitForDelete).
    expect(outcome).toMatch(/• \d+ evicted pod\(s\) gone \(\d+ s\)/);
    await eventually('db running on the other node', async () => {
      const rows = await placement('db');
      return rows.length === 1 && rows[0]?.endsWith(` ${other}`) ? rows : undefined;
    });
    const audit = await auditOf(s, request.approvalId);
    expect(audit.map((e) => e.type)).toEqual(['requested', 'approval', 'approved', 'executing', 'done']);
  });
});
