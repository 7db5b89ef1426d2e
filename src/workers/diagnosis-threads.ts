/**
 * The pool of diagnosis threads a diagnose worker uses by default: one thread per job slot
 * (the worker's concurrency), started lazily and kept, the first one at once so the first
 * report does not wait for a thread to load its modules. A job that is cancelled or runs
 * out of time has its API requests aborted in the thread, as on the main thread, and its
 * thread is ended if it does not finish soon after (a synchronous stretch cannot be
 * interrupted any other way); the next job then starts a fresh one. Running the engine here, not on the event loop the bot
 * shares in `npm start`, keeps the acks and Slack posts of that process on time.
 */
import { Worker } from 'node:worker_threads';
import type { Target } from '../cluster/view.js';
import type { ClusterConfig } from '../config/config.js';
import type { Diagnosis, Progress } from '../engine/diagnosis.js';
import { KproxyError } from '../errors.js';
import type { AbortMessage, RunMessage, ThreadReply } from './diagnose-thread.js';

// From the sources (tsx, vitest) the thread loads TypeScript through tsx; built, it is plain JS.
const fromSource = import.meta.url.endsWith('.ts');
const entry = new URL(fromSource ? './diagnose-thread.ts' : './diagnose-thread.js', import.meta.url);

/** How long an aborted job's thread may take to finish its clean-ups before it is ended. */
const drainMs = 30_000;

interface Slot {
  readonly thread: Worker;
  readonly ready: Promise<void>;
  /** Why the thread is gone, once it is. */
  dead?: Error;
  /** The job it runs, if any: where its replies go. */
  job?: { id: number; onReply: (reply: ThreadReply) => void; onExit: (error: Error) => void };
}

export interface ThreadJob {
  readonly cluster: ClusterConfig;
  readonly target: Target;
  readonly clusterWide: boolean;
  readonly onProgress?: (progress: Progress) => void;
}

export class DiagnosisThreads {
  private readonly idle: Slot[] = [];
  private readonly busy = new Set<Slot>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly size: number) {
    this.idle.push(this.spawn());
  }

  /**
   * Runs one diagnosis in a thread. When `signal` aborts, the promise rejects with its
   * reason at once and the thread aborts the job's API requests (as the main thread did)
   * so its clean-ups run; a thread that has not finished the job `drainMs` later is ended.
   */
  async run(job: ThreadJob, signal: AbortSignal): Promise<Diagnosis> {
    if (this.closed) throw new Error('the diagnosis threads are closed');
    signal.throwIfAborted();
    const slot = this.idle.pop() ?? this.spawn();
    this.busy.add(slot);
    await slot.ready;
    if (slot.dead || signal.aborted) {
      this.release(slot);
      throw slot.dead ?? signal.reason;
    }
    const id = this.nextId++;
    return new Promise<Diagnosis>((resolve, reject) => {
      let drain: NodeJS.Timeout | undefined;
      const onAbort = () => {
        reject(signal.reason);
        const timedOut = (signal.reason as Error | undefined)?.name === 'TimeoutError';
        slot.thread.postMessage({ type: 'abort', id, timedOut } satisfies AbortMessage);
        drain = setTimeout(() => void this.discard(slot), drainMs).unref();
      };
      const settle = () => {
        signal.removeEventListener('abort', onAbort);
        clearTimeout(drain);
        slot.job = undefined;
      };
      slot.job = {
        id,
        onExit: (error) => {
          settle();
          reject(error);
        },
        onReply: (reply) => {
          if (!('id' in reply) || reply.id !== id) return;
          if (reply.type === 'progress') {
            if (!signal.aborted) job.onProgress?.(reply.progress);
            return;
          }
          settle();
          this.release(slot);
          // After an abort the promise is settled already: these do nothing.
          if (reply.type === 'done') resolve(reply.diagnosis as Diagnosis);
          else
            reject(
              reply.error.code
                ? new KproxyError(reply.error.code, reply.error.message)
                : new Error(reply.error.message),
            );
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      slot.thread.postMessage({
        type: 'run',
        id,
        cluster: job.cluster,
        target: job.target,
        clusterWide: job.clusterWide,
      } satisfies RunMessage);
    });
  }

  /** A thread done with its job: kept for the next one, or ended if the pool has enough. */
  private release(slot: Slot): void {
    if (!this.busy.delete(slot)) return;
    if (!this.closed && !slot.dead && this.idle.length + this.busy.size < this.size) this.idle.push(slot);
    else void slot.thread.terminate().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle, ...this.busy];
    this.idle.length = 0;
    this.busy.clear();
    await Promise.all(all.map((s) => s.thread.terminate()));
  }

  private spawn(): Slot {
    const thread = new Worker(entry, fromSource ? { execArgv: ['--import', 'tsx'] } : {});
    // An idle thread does not keep the process alive (the worker's close ends them).
    thread.unref();
    let onReady: () => void = () => undefined;
    const slot: Slot = { thread, ready: new Promise((r) => (onReady = r)) };
    thread.on('message', (reply: ThreadReply) => {
      if (reply.type === 'ready') onReady();
      else slot.job?.onReply(reply);
    });
    const lost = (error: Error) => {
      slot.dead ??= error;
      this.forget(slot);
      onReady();
      slot.job?.onExit(error);
    };
    thread.on('error', (error) => lost(new Error(`diagnosis thread failed: ${error.message}`)));
    thread.on('exit', (code) => lost(new Error(`diagnosis thread exited (code ${code})`)));
    return slot;
  }

  private forget(slot: Slot): void {
    this.busy.delete(slot);
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
  }

  private async discard(slot: Slot): Promise<void> {
    this.forget(slot);
    slot.job = undefined;
    await slot.thread.terminate().catch(() => undefined);
  }
}
