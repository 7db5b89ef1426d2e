/** The two-person approval store against real Redis: every rule that needs atomicity. */
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { mayApprove, policyFor } from '../src/approvals/policy.js';
import { type ApprovalRequest, ApprovalStore } from '../src/approvals/store.js';
import { parseConfig } from '../src/config/config.js';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());
beforeEach(() => redis.flushdb());

// A fixed clock derived from the real one: the tests move it by hand and hold on any date.
let clock = Math.floor(Date.now() / 1000) * 1000;
const store = () => new ApprovalStore(redis, () => clock);
const request = (o: Partial<ApprovalRequest> = {}): ApprovalRequest => ({
  cluster: 'prod-east',
  action: 'delete-kube-proxy-pod',
  safety: 'YELLOW',
  node: 'ip-10-0-2-45.ec2.internal',
  requester: 'U0REQUEST1',
  required: 1,
  expiresAt: clock + 15 * 60_000,
  jobId: 'diag__1',
  channel: 'C0INCIDENT1',
  threadTs: '1763805601.000001',
  ...o,
});

describe('ApprovalStore', () => {
  it.each([
    ['a year behind', -365 * 24 * 3600_000],
    ['a year ahead', 365 * 24 * 3600_000],
  ])("keeps requests whatever Redis' clock says: the store's clock %s", async (_, skew) => {
    const skewed = new ApprovalStore(redis, () => clock + skew);
    const a = await skewed.create(request({ expiresAt: clock + skew + 15 * 60_000 }));
    expect(await redis.pttl(`kproxy:approval:${a.id}`)).toBeGreaterThan(7 * 24 * 3600_000);
    expect(await skewed.approve(a.id, 'U0SECOND01')).toEqual({ outcome: 'approved', count: 1 });
    expect(await redis.pttl(`kproxy:approval:${a.id}:approvers`)).toBeGreaterThan(0);
  });

  it('the requester can never approve; another person can, once', async () => {
    const s = store();
    const a = await s.create(request());
    expect(await s.approve(a.id, 'U0REQUEST1')).toEqual({ outcome: 'self' });
    expect(await s.approve(a.id, 'U0SECOND01')).toEqual({ outcome: 'approved', count: 1 });
    expect(await s.approve(a.id, 'U0THIRD001')).toEqual({ outcome: 'already', state: 'approved' });
    expect((await s.get(a.id))?.approvers).toEqual(['U0SECOND01']);
  });

  it('RED: no request without a reason; no vote without the exact target name, for every approver', async () => {
    const s = store();
    const red = request({ action: 'drain-node', safety: 'RED', required: 2 });
    await expect(s.create(red)).rejects.toThrow('a RED request needs a written reason');
    await expect(s.create({ ...red, reason: '   ' })).rejects.toThrow('a RED request needs a written reason');
    const a = await s.create({ ...red, reason: 'rules stay stale after the restart' });
    expect(await s.approve(a.id, 'U0SECOND01')).toEqual({ outcome: 'unconfirmed' });
    expect(await s.approve(a.id, 'U0SECOND01', 'ip-10-0-2-45')).toEqual({ outcome: 'unconfirmed' });
    expect(await s.approve(a.id, 'U0SECOND01', 'ip-10-0-2-45.ec2.internal')).toEqual({
      outcome: 'counted',
      count: 1,
      required: 2,
    });
    expect(await s.approve(a.id, 'U0THIRD001', 'prod-east')).toEqual({ outcome: 'unconfirmed' });
    expect(await s.approve(a.id, 'U0THIRD001', 'ip-10-0-2-45.ec2.internal')).toEqual({
      outcome: 'approved',
      count: 2,
    });
    expect((await s.get(a.id))?.confirmed).toBe('ip-10-0-2-45.ec2.internal');
    // A cluster-wide RED action is confirmed with the cluster's name.
    const ipvs = await s.create(
      request({
        action: 'switch-kube-proxy-mode-ipvs',
        safety: 'RED',
        node: undefined,
        reason: 'rule explosion',
      }),
    );
    expect(await s.approve(ipvs.id, 'U0SECOND01', 'prod-east')).toEqual({ outcome: 'approved', count: 1 });
  });

  it('each approver counts once toward a higher threshold', async () => {
    const s = store();
    const a = await s.create(request({ required: 2 }));
    expect(await s.approve(a.id, 'U0SECOND01')).toEqual({ outcome: 'counted', count: 1, required: 2 });
    expect(await s.approve(a.id, 'U0SECOND01')).toEqual({ outcome: 'duplicate' });
    expect(await s.approve(a.id, 'U0THIRD001')).toEqual({ outcome: 'approved', count: 2 });
  });

  it('a deny cancels; later clicks change nothing', async () => {
    const s = store();
    const a = await s.create(request());
    expect(await s.deny(a.id, 'U0SECOND01')).toBe('denied');
    expect(await s.approve(a.id, 'U0THIRD001')).toEqual({ outcome: 'already', state: 'denied' });
  });

  it('expires at its deadline, by the stored time', async () => {
    const s = store();
    const a = await s.create(request());
    clock += 15 * 60_000 + 1;
    expect(await s.approve(a.id, 'U0SECOND01')).toEqual({ outcome: 'expired' });
    expect((await s.get(a.id))?.state).toBe('expired');
    expect(await s.approve('no-such-id', 'U0SECOND01')).toEqual({ outcome: 'unknown' });
    clock -= 15 * 60_000 + 1;
  });

  it('50 concurrent approvals from 50 people approve once, and execution is claimed once', async () => {
    const s = store();
    const a = await s.create(request());
    const connections = Array.from({ length: 5 }, () => new Redis(inject('redisUrl')));
    const votes = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        new ApprovalStore(connections[i % 5] as Redis, () => clock).approve(
          a.id,
          `U0VOTER${String(i).padStart(3, '0')}`,
        ),
      ),
    );
    expect(votes.filter((v) => v.outcome === 'approved')).toHaveLength(1);
    expect(votes.filter((v) => v.outcome === 'already')).toHaveLength(49);
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        new ApprovalStore(connections[i % 5] as Redis, () => clock).claimExecution(a.id, `worker-${i}`),
      ),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await s.finish(a.id, 'worker-x', 'done', 'pod deleted; rules resynced')).toBe(true);
    expect(await s.claimExecution(a.id, 'worker-late')).toBe(false);
    await Promise.all(connections.map((c) => c.quit()));
  });

  it('appends every step to the audit stream, newest first', async () => {
    const s = store();
    const a = await s.create(request({ reason: 'stale rules on one node' }));
    await s.approve(a.id, 'U0SECOND01');
    await s.claimExecution(a.id, 'worker-1');
    await s.finish(a.id, 'worker-1', 'failed', 'API answered 403');
    const entries = await s.recentAudit(10);
    expect(entries.map((e) => e.type)).toEqual(['failed', 'executing', 'approved', 'approval', 'requested']);
    expect(entries.at(-1)?.detail).toBe(
      'delete-kube-proxy-pod YELLOW on prod-east/ip-10-0-2-45.ec2.internal — stale rules on one node',
    );
    expect(entries[0]).toMatchObject({ by: 'worker-1', detail: 'API answered 403', approval: a.id });
  });

  it('the expiry sweep expires overdue requests once, and only those', async () => {
    const s = store();
    const due = await s.create(request({ expiresAt: clock + 1000 }));
    const later = await s.create(request({ expiresAt: clock + 60_000 }));
    const answered = await s.create(request({ expiresAt: clock + 1000 }));
    await s.approve(answered.id, 'U0SECOND01');
    clock += 5000;
    expect(await s.expireDue()).toEqual([due.id]);
    expect(await s.expireDue()).toEqual([]);
    expect((await s.get(due.id))?.state).toBe('expired');
    expect((await s.get(later.id))?.state).toBe('pending');
    expect((await s.get(answered.id))?.state).toBe('approved');
    expect((await s.recentAudit(1))[0]).toMatchObject({ type: 'expired', approval: due.id, by: 'kproxy' });
    clock -= 5000;
  });

  it('refuses a threshold below one', async () => {
    await expect(store().create(request({ required: 0 }))).rejects.toThrow(/at least one approver/);
  });
});

describe('approval policy', () => {
  const config = parseConfig(
    [
      'clusters:',
      '  - name: prod-east',
      '    kubeconfig: { path: k, context: c }',
      '    channels: [C0INCIDENT1]',
      '  - name: prod-west',
      '    kubeconfig: { path: k, context: w }',
      '    channels: [C0INCIDENT1]',
      '    approvals:',
      '      yellow: { approvers: { users: [U0WEST0001] } }',
      '      red: { approvers: { users: [U0WEST0001, U0WEST0002] }, required: 2, expiresMinutes: 5 }',
      'approvals:',
      '  yellow: { approvers: { users: [U0AAAAAAA, U0BBBBBBB], groups: [S0CCCCCCC] }, required: 1, expiresMinutes: 15 }',
      '  red:    { approvers: { users: [U0DDDDDDD] }, required: 1, expiresMinutes: 10 }',
    ].join('\n'),
    'c.yaml',
  );

  it('is per rating, with per-cluster overrides, users and user groups', () => {
    const yellow = policyFor(config, 'prod-east', 'YELLOW');
    expect(mayApprove(yellow, 'U0AAAAAAA', [])).toBe(true);
    expect(mayApprove(yellow, 'U0ZZZZZZZ', ['S0CCCCCCC'])).toBe(true);
    expect(mayApprove(yellow, 'U0ZZZZZZZ', ['S0OTHER00'])).toBe(false);
    expect(mayApprove(policyFor(config, 'prod-east', 'RED'), 'U0AAAAAAA', [])).toBe(false);
    expect(policyFor(config, 'prod-west', 'RED')).toMatchObject({ required: 2, expiresMinutes: 5 });
    expect(mayApprove(policyFor(config, 'prod-west', 'YELLOW'), 'U0AAAAAAA', [])).toBe(false);
  });

  it('defaults to nobody, one approver, 15 and 10 minutes', () => {
    const bare = parseConfig(
      'clusters:\n  - name: x\n    kubeconfig: { path: k, context: c }\n    channels: [C0INCIDENT1]\n',
      'c.yaml',
    );
    expect(bare.approvals).toEqual({
      yellow: { approvers: { users: [], groups: [] }, required: 1, expiresMinutes: 15 },
      red: { approvers: { users: [], groups: [] }, required: 1, expiresMinutes: 10 },
    });
  });
});
