/**
 * The lease a running execution holds on its approval, apart from BullMQ's job lock: a key
 * with a short TTL that the running worker renews. BullMQ hands a job to another worker when
 * its lock lapses, which also happens to a worker that is alive but could not renew (Redis
 * unreachable for longer than the lock). The worker that inherits the job checks the lease
 * before declaring the execution interrupted; a worker that cannot renew its lease (taken,
 * gone, or not renewed within its TTL) considers it lost and writes nothing more.
 */
import type { Redis } from 'ioredis';
import type { ExecutionContext } from '../approvals/executors.js';

/** Shorter than BullMQ's 30 s lock: a dead worker's lease is gone when its job is handed over. */
export const leaseMs = 10_000;
const renewEveryMs = 2_000;

const leaseKey = (approvalId: string) => `kproxy:approval:${approvalId}:lease`;

const renewScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const releaseScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export class ExecutionLease {
  private lostReason: string | undefined;
  private renewedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly redis: Redis,
    private readonly approvalId: string,
    private readonly holder: string,
  ) {}

  /** Takes the lease (right after claiming the execution) and keeps renewing it. */
  static async take(redis: Redis, approvalId: string, holder: string): Promise<ExecutionLease> {
    const lease = new ExecutionLease(redis, approvalId, holder);
    await redis.set(leaseKey(approvalId), holder, 'PX', leaseMs);
    lease.timer = setInterval(() => void lease.renew(), renewEveryMs);
    return lease;
  }

  /** Whether some worker holds a live lease on the execution. */
  static async held(redis: Redis, approvalId: string): Promise<boolean> {
    return (await redis.exists(leaseKey(approvalId))) === 1;
  }

  /** Why the lease was lost, or undefined while it is held. */
  get lost(): string | undefined {
    if (!this.lostReason && Date.now() - this.renewedAt > leaseMs)
      this.lostReason = `its lease was not renewed for ${Math.round(leaseMs / 1000)} s (Redis unreachable)`;
    return this.lostReason;
  }

  private async renew(): Promise<void> {
    try {
      const renewed = await this.redis.eval(
        renewScript,
        1,
        leaseKey(this.approvalId),
        this.holder,
        String(leaseMs),
      );
      if (renewed === 1) this.renewedAt = Date.now();
      else this.lostReason ??= 'another worker took over the execution';
    } catch {
      // Not renewed: `lost` says so once the lease could have lapsed.
    }
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.eval(releaseScript, 1, leaseKey(this.approvalId), this.holder).catch(() => undefined);
  }

  /**
   * The context with every Kubernetes write refused once the lease is lost: the plan stops at
   * its next step (what was done before is reported as done).
   */
  guard(ctx: ExecutionContext): ExecutionContext {
    const http = Object.create(ctx.http) as ExecutionContext['http'];
    const send = ctx.http.send.bind(ctx.http);
    http.send = (...args: Parameters<typeof send>) => {
      const lost = this.lost;
      return lost
        ? Promise.resolve({
            ok: false as const,
            status: 0,
            reason: `not written: this worker lost its lease (${lost})`,
          })
        : send(...args);
    };
    return { ...ctx, http };
  }
}
