/**
 * kube-proxy actions executed against the real apiserver after a real two-person approval
 * through the bot (signed Slack requests to Bolt, Redis, BullMQ): the report comes from
 * kproxy-worker's live diagnosis of kube-proxy not running on a node (its real process
 * crash-looped: action-lab.ts failKubeProxyOn), the dry run and the writes are
 * kproxy-actions' (deploy/base's RBAC as-is), and the real DaemonSet controller and the
 * lab's kubelet part (lab/src/kube-proxy-pods.ts) do the rest. The IPVS switch runs through the executor (see below).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { executePlan, planAction } from '../../src/approvals/executors.js';
import { LiveSource } from '../../src/cluster/live/live-source.js';
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
import { failKubeProxyOn, kproxyIdentities, kubeProxyPodOn, kubeProxySettled } from './action-lab.js';
import { deploymentAndService, podsWithReady } from './fault-helpers.js';
import { restoreKubeProxy } from './kube-proxy-helpers.js';
import { admin, asList } from './lab-helpers.js';

const lab = inject('lab');
const ns = 'kproxy-actions-kube-proxy';
const [node0, node1] = lab.nodeNames as [string, string];
let dir: string;
let kubeconfig: string;
let redis: RedisServer;
let stack: BotStack | undefined;
/** The diagnosis reads each node's real rules by exec into its kube-proxy pod. */
const nodeCaptures = 'exec';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kproxy-actions-'));
  kubeconfig = await kproxyIdentities(lab, path.join(dir, 'identities.kubeconfig'));
  await kubeProxySettled(lab);
  await admin(lab, ['create', 'namespace', ns]);
  await admin(
    lab,
    ['apply', '-f', '-'],
    asList(deploymentAndService({ ns, name: 'web', labels: { app: 'web' } })),
  );
  await podsWithReady(lab, ns, 'app=web', 'True', 2);
  redis = await startRedisServer();
});

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  await flushRedis(redis.url);
});

afterAll(async () => {
  await admin(lab, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  // A crash-looped pod a failed test left behind: kube-proxy as the manifest has it.
  await kubeProxySettled(lab).catch(() => restoreKubeProxy(lab));
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What the thread says once the fix for `pod_crash` is verified by a healthy diagnosis. */
const clearedLine = ':white_check_mark: Post-fix check: `pod_crash` cleared (now: no fault found).';

describe('kube-proxy actions on the lab, after a real approval', () => {
  it('delete-kube-proxy-pod: the DaemonSet recreates the pod and the post-fix check waits for it', async () => {
    const failing = await failKubeProxyOn(lab, node1);
    const before = await kubeProxyPodOn(lab, node1);
    stack = await labStack({ redisUrl: redis.url, kubeconfig, nodeCaptures });
    const s = stack;
    const r = await reportFor(s, `${ns}/web --node ${node1}`);
    expect(r.report.text).toContain('pod_crash');
    const request = await requestAction(s, r, 'delete-kube-proxy-pod');
    // The dry run: kproxy-actions read the cluster and found the failing pod.
    expect(request.dryRun).toContain(`DELETE Pod kube-system/${failing} (node ${node1})`);
    const executed = await approve(s, request, 'delete-kube-proxy-pod');
    expect(executed).toContain(`• DELETE Pod kube-system/${failing} (node ${node1})`);
    expect(executed).toContain(`approved by <@${approver}>`);

    const fixed = await postFixCheck(s, request.message.thread_ts as string);
    expect(fixed).toBe(clearedLine);
    // The DaemonSet controller recreated it (another pod, another UID): a fresh, Ready process.
    const after = await kubeProxyPodOn(lab, node1);
    expect(after.uid).not.toBe(before.uid);
    await kubeProxySettled(lab);

    const audit = await auditOf(s, request.approvalId);
    expect(audit.map((e) => [e.type, e.by])).toEqual([
      ['requested', requester],
      ['approval', approver],
      ['approved', approver],
      ['executing', expect.stringMatching(/^worker-/)],
      ['done', expect.stringMatching(/^worker-/)],
    ]);
    expect(audit.at(-1)?.detail).toBe(`DELETE Pod kube-system/${failing} (node ${node1})`);
    expect(audit[0]?.detail).toBe(`delete-kube-proxy-pod YELLOW on lab/${node1}`);
  });

  it('restart-kube-proxy: a real rollout, observed by kproxy until every pod is updated and available', async () => {
    await failKubeProxyOn(lab, node0);
    const before = await Promise.all(lab.nodeNames.map((n) => kubeProxyPodOn(lab, n)));
    stack = await labStack({ redisUrl: redis.url, kubeconfig, nodeCaptures });
    const s = stack;
    const r = await reportFor(s, `${ns}/web --node ${node0}`);
    const request = await requestAction(s, r, 'restart-kube-proxy');
    expect(request.dryRun).toMatch(
      /PATCH DaemonSet kube-system\/kube-proxy spec\.template\.metadata\.annotations\[\\*"kubectl\.kubernetes\.io\/restartedAt\\*"\]=20\d\d-/,
    );
    const executed = await approve(s, request, 'restart-kube-proxy');
    const n = lab.nodeNames.length;
    expect(executed).toMatch(
      new RegExp(`• rollout complete: ${n}/${n} kube-proxy pods updated, ${n}/${n} available \\(\\d+ s\\)`),
    );
    // The annotation `kubectl rollout restart` writes, and new pods on every node.
    const restartedAt = await admin(lab, [
      'get',
      'ds',
      '-n',
      'kube-system',
      'kube-proxy',
      '-o',
      'jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}',
    ]);
    expect(executed).toContain(`restartedAt"]=${restartedAt}`);
    const after = await Promise.all(lab.nodeNames.map((n) => kubeProxyPodOn(lab, n)));
    for (const [i, pod] of after.entries()) expect(pod.uid).not.toBe(before[i]?.uid);
    expect(await postFixCheck(s, request.message.thread_ts as string)).toBe(clearedLine);
    const audit = await auditOf(s, request.approvalId);
    expect(audit.map((e) => e.type)).toEqual(['requested', 'approval', 'approved', 'executing', 'done']);
    expect(audit.at(-1)?.detail).toContain(`rollout complete: ${n}/${n} kube-proxy pods updated`);
  });
});

/**
 * No fault the lab can produce makes kproxy offer the IPVS switch (it is offered for
 * iptables rule explosion, read from kube-proxy's sync metrics and logs), so it runs here
 * through the executor the action worker runs, as kproxy-actions, with the same plan.
 */
describe('switch-kube-proxy-mode-ipvs on the lab (executor, kproxy-actions)', () => {
  it('edits the KubeProxyConfiguration in the ConfigMap, restarts kube-proxy, and reports the rollout blocked on the real kube-proxy refusing IPVS', async () => {
    const original = await admin(lab, ['get', 'configmap', '-n', 'kube-system', 'kube-proxy', '-o', 'json']);
    const data = (JSON.parse(original) as { data: Record<string, string> }).data;
    const key = Object.keys(data).find((k) => /kind: KubeProxyConfiguration/.test(data[k] ?? '')) as string;
    const http = new LiveSource({
      clusterName: 'lab',
      nodeCaptures: 'off',
      proxyVia: 'nodes',
      kubeconfigPath: kubeconfig,
      context: 'actions',
    }).http;
    try {
      const plan = await planAction({ http }, { action: 'switch-kube-proxy-mode-ipvs' });
      if (!plan.ok) throw new Error(plan.reason);
      expect(plan.value.writes.map((w) => w.describe)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^PATCH ConfigMap kube-system/kube-proxy data\\["${key}"\\]: mode iptables( \\(default\\))? → ipvs`,
          ),
        ),
        expect.stringMatching(/^PATCH DaemonSet kube-system\/kube-proxy /),
      ]);
      const result = await executePlan({ http }, plan.value, undefined, {
        pollIntervalMs: 1000,
        settleTimeoutMs: 40_000,
      });
      expect(result.done.slice(0, 2)).toEqual(plan.value.writes.map((w) => w.describe));
      // The real kube-proxy cannot run IPVS on these kernels (no ip_vs module) and exits:
      // the rollout cannot finish, and kproxy's wait says so, naming the pod it is stuck on.
      expect(result.ok).toBe(false);
      expect(result.error).toMatch(
        /^rollout not complete within the wait bound \(\d+ s, bound 40 s for \d+ nodes\): .*; blocked on .*kube-proxy-\S+ (CrashLoopBackOff|not Ready)/,
      );
      const edited = JSON.parse(
        await admin(lab, ['get', 'configmap', '-n', 'kube-system', 'kube-proxy', '-o', 'json']),
      ) as { data: Record<string, string> };
      const conf = edited.data[key] as string;
      const before = data[key]?.split('\n') ?? [];
      // Only the mode (and an unset scheduler) changed, their quoting kept; other keys untouched.
      expect(conf.split('\n')).toHaveLength(before.length);
      const changed = conf.split('\n').filter((l, i) => l !== before[i]);
      expect(changed.filter((l) => /^mode: "?ipvs"?$/.test(l))).toHaveLength(1);
      expect(changed.filter((l) => !/^mode: "?ipvs"?$|^ {2}scheduler: "?rr"?$/.test(l))).toEqual([]);
      for (const k of Object.keys(data).filter((k) => k !== key)) expect(edited.data[k]).toBe(data[k]);
      // Planned again, it refuses: already IPVS.
      const again = await planAction({ http }, { action: 'switch-kube-proxy-mode-ipvs' });
      expect(again).toMatchObject({
        ok: false,
        reason: 'kube-proxy is already configured for IPVS (ConfigMap kube-system/kube-proxy)',
      });
    } finally {
      await admin(lab, [
        'patch',
        'configmap',
        '-n',
        'kube-system',
        'kube-proxy',
        '--type=merge',
        '-p',
        JSON.stringify({ data }),
      ]);
      await admin(lab, ['rollout', 'restart', 'daemonset', '-n', 'kube-system', 'kube-proxy']);
      await kubeProxySettled(lab);
    }
  });
});
