/**
 * The two-person approval state, in Redis, changed only by small Lua scripts so every
 * transition is atomic: votes (the requester can never approve; each approver counts
 * once; the threshold is configurable), deny, expiry (checked against the stored
 * deadline, not Redis' lazy TTL), and claiming execution exactly once. Every transition
 * is appended to the audit stream in the same script.
 *
 * Who may approve (users, user groups per rating and cluster) is decided before a vote
 * reaches the store; the store enforces what needs atomicity.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ActionId, SafetyRating } from './actions.js';
import { denyScript, expireScript, lateScript, transitionScript, voteScript } from './store-scripts.js';

export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired' | 'executing' | 'done' | 'failed';

export interface ApprovalRequest {
  readonly cluster: string;
  readonly action: ActionId;
  readonly safety: Exclude<SafetyRating, 'GREEN'>;
  readonly node?: string | undefined;
  readonly requester: string;
  readonly reason?: string | undefined;
  /** drain-node: the requester ticked that evicting pods with emptyDir volumes loses their data. */
  readonly acceptEmptyDirDataLoss?: boolean | undefined;
  /** The diagnosis' root cause and evidence behind the action, as shown on the request. */
  readonly evidence?: readonly string[] | undefined;
  /** Approvals needed besides the requester (never below 1). */
  readonly required: number;
  readonly expiresAt: number;
  /** The diagnosis and thread the request belongs to. */
  readonly jobId: string;
  readonly channel: string;
  readonly threadTs: string;
}

export interface Approval extends ApprovalRequest {
  readonly id: string;
  readonly state: ApprovalState;
  readonly approvers: readonly string[];
  /** The approver whose vote reached the threshold. */
  readonly approvedBy?: string | undefined;
  /** RED: the target name the approvers typed (the store accepts only the exact name). */
  readonly confirmed?: string | undefined;
  /** Each approval with when it was given, in order. */
  readonly votes: readonly { readonly user: string; readonly at: number }[];
  readonly createdAt: number;
}

export type VoteResult =
  | { readonly outcome: 'approved'; readonly count: number }
  | { readonly outcome: 'counted'; readonly count: number; readonly required: number }
  | { readonly outcome: 'self' | 'duplicate' | 'expired' | 'unknown' | 'unconfirmed' }
  | { readonly outcome: 'already'; readonly state: ApprovalState };

export interface AuditEntry {
  readonly id: string;
  readonly type: string;
  readonly approval: string;
  readonly by: string;
  readonly at: number;
  readonly detail: string;
  /** The cluster of the request (its channels decide where the entry may be shown). */
  readonly cluster: string;
}

const auditKey = 'kproxy:audit';
const auditMaxLen = 100_000;
/** How long a finished approval stays readable (the message shows who did what). */
const retentionMs = 7 * 24 * 3600 * 1000;

const hashKey = (id: string) => `kproxy:approval:${id}`;
/** Pending requests by deadline, for the expiry sweep. */
const pendingKey = 'kproxy:approvals:pending';
const votersKey = (id: string) => `kproxy:approval:${id}:approvers`;
/**
 * The outbox of approved requests (by approval time), written by the vote that completes
 * the approval: a request in it has no execution claimed yet, so a sweep can queue its job
 * if the bot could not (Redis or Slack failed right after the vote, the bot restarted).
 */
const approvedKey = 'kproxy:approvals:approved';
/** Claimed executions (by claim time): a sweep fails those whose job is gone or failed. */
const executingKey = 'kproxy:approvals:executing';
/** A requester's requests by deadline, to bound how many they have open at once. */
const requesterKey = (user: string) => `kproxy:approvals:by:${user}`;
/** The one open request per report, action and target (value: its approval id). */
const slotKey = (slot: string) => `kproxy:approvals:slot:${slot}`;
/** States in which a request holds its slot: a second request would run the action twice. */
const holdsSlot: readonly (string | null)[] = ['pending', 'approved', 'executing', 'done'];

/** What a RED approver must type: the node's name, or the cluster's for cluster-wide actions. */
export function confirmationTarget(request: Pick<ApprovalRequest, 'node' | 'cluster'>): string {
  return request.node ?? request.cluster;
}

export class ApprovalStore {
  constructor(
    private readonly redis: Redis,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Reserves the request slot `slot` for approval `id` unless a request holding it is open or
   * done; returns the id of that request, or undefined when reserved.
   */
  async reserve(slot: string, id: string, ttlMs: number): Promise<string | undefined> {
    const key = slotKey(slot);
    for (let attempt = 0; attempt < 3; attempt++) {
      if ((await this.redis.set(key, id, 'PX', ttlMs, 'NX')) === 'OK') return undefined;
      const current = await this.redis.get(key);
      if (current === null) continue;
      if (holdsSlot.includes(await this.redis.hget(hashKey(current), 'state'))) return current;
      // Denied, expired or failed (or never created): take it over, unless someone just did.
      const taken = await this.redis.eval(
        `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`,
        1,
        key,
        current,
        id,
        String(ttlMs),
      );
      if (taken === 1) return undefined;
    }
    return (await this.redis.get(key)) ?? 'unknown';
  }

  /** How many of `user`'s requests wait for approval now. */
  async openCount(user: string): Promise<number> {
    const key = requesterKey(user);
    await this.redis.zremrangebyscore(key, '-inf', this.now());
    const ids = await this.redis.zrange(key, 0, -1);
    const states = await Promise.all(ids.map((id) => this.redis.hget(hashKey(id), 'state')));
    return states.filter((s) => s === 'pending').length;
  }

  /** pending → failed: the dry run says the action cannot run now (nobody is asked). */
  async closeUnrunnable(id: string, detail: string): Promise<boolean> {
    return (await this.transition(id, 'kproxy', 'pending', 'failed', detail)) === 'ok';
  }

  async create(request: ApprovalRequest, id: string = randomUUID()): Promise<Approval> {
    if (request.required < 1)
      throw new Error('an approval needs at least one approver besides the requester');
    const red = request.safety === 'RED';
    if (red && !request.reason?.trim()) throw new Error('a RED request needs a written reason');
    const createdAt = this.now();
    const retainUntil = Math.max(request.expiresAt, createdAt) + retentionMs;
    // Relative, measured from the store's own clock: Redis deletes a key whose absolute
    // deadline is already past by its own clock, and the two clocks need not agree.
    const retainForMs = retainUntil - createdAt;
    const fields = {
      state: 'pending',
      data: JSON.stringify(request),
      requester: request.requester,
      cluster: request.cluster,
      required: String(request.required),
      expiresAt: String(request.expiresAt),
      createdAt: String(createdAt),
      retainUntil: String(retainUntil),
      ...(red ? { confirmTarget: confirmationTarget(request) } : {}),
    };
    await this.redis
      .multi()
      .zadd(pendingKey, request.expiresAt, id)
      .hset(hashKey(id), fields)
      .pexpire(hashKey(id), retainForMs)
      .zadd(requesterKey(request.requester), request.expiresAt, id)
      .pexpire(requesterKey(request.requester), retentionMs)
      .xadd(
        auditKey,
        'MAXLEN',
        '~',
        auditMaxLen,
        '*',
        'type',
        'requested',
        'approval',
        id,
        'by',
        request.requester,
        'at',
        String(createdAt),
        'cluster',
        request.cluster,
        'detail',
        `${request.action} ${request.safety} on ${request.cluster}${request.node ? `/${request.node}` : ''}${request.reason ? ` — ${request.reason}` : ''}`,
      )
      .exec();
    return { ...request, id, state: 'pending', approvers: [], votes: [], createdAt };
  }

  async get(id: string): Promise<Approval | undefined> {
    const [fields, voters] = await Promise.all([
      this.redis.hgetall(hashKey(id)),
      this.redis.smembers(votersKey(id)),
    ]);
    if (!fields.data) return undefined;
    return {
      ...(JSON.parse(fields.data) as ApprovalRequest),
      id,
      state: fields.state as ApprovalState,
      approvers: voters.sort(),
      approvedBy: fields.approvedBy,
      confirmed: fields.confirmed,
      votes: Object.entries(fields)
        .filter(([k]) => k.startsWith('votedAt:'))
        .map(([k, v]) => ({ user: k.slice('votedAt:'.length), at: Number(v) }))
        .sort((a, b) => a.at - b.at),
      createdAt: Number(fields.createdAt),
    };
  }

  /** `confirmation`: for RED, the target's name as the approver typed it. */
  async approve(id: string, user: string, confirmation = ''): Promise<VoteResult> {
    const r = (await this.run(voteScript, id, user, 'vote', confirmation)) as [
      string,
      ...(string | number)[],
    ];
    switch (r[0]) {
      case 'approved':
        return { outcome: 'approved', count: Number(r[1]) };
      case 'counted':
        return { outcome: 'counted', count: Number(r[1]), required: Number(r[2]) };
      case 'already':
        return { outcome: 'already', state: r[1] as ApprovalState };
      default:
        return { outcome: r[0] as 'self' | 'duplicate' | 'expired' | 'unknown' | 'unconfirmed' };
    }
  }

  async deny(
    id: string,
    user: string,
    detail = '',
  ): Promise<'denied' | 'expired' | 'unknown' | ApprovalState> {
    const r = (await this.run(denyScript, id, user, 'deny', detail)) as string[];
    return (r[0] === 'already' ? r[1] : r[0]) as 'denied' | 'expired' | 'unknown' | ApprovalState;
  }

  /** approved → executing, exactly once however many workers try. */
  async claimExecution(id: string, worker: string): Promise<boolean> {
    return (await this.transition(id, worker, 'approved', 'executing', '')) === 'ok';
  }

  /** executing → done | failed, with what happened. */
  async finish(id: string, worker: string, outcome: 'done' | 'failed', detail: string): Promise<boolean> {
    return (await this.transition(id, worker, 'executing', outcome, detail)) === 'ok';
  }

  /**
   * Expires every pending request past its deadline (once, whoever sweeps) and returns
   * their ids, so their messages can say so.
   */
  async expireDue(): Promise<string[]> {
    const now = this.now();
    const due = await this.redis.zrangebyscore(pendingKey, '-inf', now);
    const expired: string[] = [];
    for (const id of due) {
      const r = (await this.run(expireScript, id, 'kproxy', 'expired', '')) as string[];
      await this.redis.zrem(pendingKey, id);
      if (r[0] === 'expired') expired.push(id);
    }
    return expired;
  }

  /**
   * What a worker did after its execution was already recorded as ended (it lost its lease
   * and another declared it interrupted): appended to the audit, the state unchanged.
   */
  async appendLate(id: string, worker: string, detail: string): Promise<void> {
    await this.run(lateScript, id, worker, 'late_result', detail);
  }

  /** Approved requests whose execution nobody has claimed, approved at or before `before`. */
  async unclaimed(before: number): Promise<string[]> {
    return this.redis.zrangebyscore(approvedKey, '-inf', before);
  }

  /** Executions claimed at or before `before` and not finished. */
  async executing(before: number): Promise<string[]> {
    return this.redis.zrangebyscore(executingKey, '-inf', before);
  }

  /** Forgets an outbox or executing entry whose request no longer exists (retention ended). */
  async forget(id: string): Promise<void> {
    await this.redis.multi().zrem(approvedKey, id).zrem(executingKey, id).exec();
  }

  /**
   * The latest `count` audit entries, newest first; with `clusters`, only theirs (reading at
   * most a few thousand entries back).
   */
  async recentAudit(count = 20, clusters?: readonly string[]): Promise<AuditEntry[]> {
    const found: AuditEntry[] = [];
    let end = '+';
    for (let page = 0; page < 20 && found.length < count; page++) {
      const batch = await this.redis.xrevrange(auditKey, end, '-', 'COUNT', clusters ? 200 : count);
      for (const [entryId, flat] of batch) {
        if (entryId === end) continue;
        const f: Record<string, string> = {};
        for (let i = 0; i < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
        const entry = {
          id: entryId,
          type: f.type ?? '',
          approval: f.approval ?? '',
          by: f.by ?? '',
          at: Number(f.at),
          detail: f.detail ?? '',
          cluster: f.cluster ?? '',
        };
        if (!clusters || clusters.includes(entry.cluster)) found.push(entry);
        if (found.length >= count) break;
      }
      if (!clusters || batch.length < 200) break;
      end = batch.at(-1)?.[0] ?? '-';
    }
    return found;
  }

  private async transition(
    id: string,
    user: string,
    from: ApprovalState,
    to: ApprovalState,
    detail: string,
  ): Promise<string> {
    // ARGV[4] carries `from` in and the audit type out; ARGV[7] is the target state.
    const r = (await this.run(transitionScript, id, user, from, detail, to)) as string[];
    return r[0] as string;
  }

  /** KEYS: hash, voters, audit, approved, executing. ARGV: user, nowMs, maxlen, type, id, detail, …extra. */
  private run(
    script: string,
    id: string,
    user: string,
    type: string,
    detail: string,
    ...extra: string[]
  ): Promise<unknown> {
    return this.redis.eval(
      script,
      5,
      hashKey(id),
      votersKey(id),
      auditKey,
      approvedKey,
      executingKey,
      user,
      String(this.now()),
      String(auditMaxLen),
      type,
      id,
      detail,
      ...extra,
    );
  }
}
