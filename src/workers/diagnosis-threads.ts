/**
 * The pool of diagnosis threads a diagnose worker uses by default: one thread per job slot
 * (the worker's concurrency), started lazily and kept, the first one at once so the first
 * report does not wait for a thread to load its modules. A job that is cancelled or runs
 * out of time ends its thread (a synchronous stretch cannot be interrupted any other way);
 * the next job starts a fresh one. Running the engine here, not on the event loop the bot
 * shares in `npm start`, keeps the acks and Slack posts of that process on time.
 */
import { Worker } from 'node:worker_threads';
import type { Target } from '../cluster/view.js';
import type { ClusterConfig } from '../config/config.js';
import type { Diagnosis, Progress } from '../engine/diagnosis.js';
import { KproxyError } from '../errors.js';
import type { RunMessage, ThreadReply } from './diagnose-thread.js';

// From the sources (tsx, vitest) the thread loads TypeScript through tsx; built, it is plain JS.
const fromSource = import.meta.url.endsWith('.ts');
const entry = new URL(fromSource ? './diagnose-thread.ts' : './diagnose-thread.js', import.meta.url);

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

  /** Runs one diagnosis in a thread; `signal` ends the thread and rejects with its reason. */
  async run(job: ThreadJob, signal: AbortSignal): Promise<Diagnosis> {
    if (this.closed) throw new Error('the diagnosis threads are closed');
    signal.throwIfAborted();
    const slot = this.idle.pop() ?? this.spawn();
    this.busy.add(slot);
    const id = this.nextId++;
    try {
      await slot.ready;
      if (slot.dead) throw slot.dead;
      signal.throwIfAborted();
      return await new Promise<Diagnosis>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        const settle = () => {
          signal.removeEventListener('abort', onAbort);
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
            if (reply.type === 'progress') return job.onProgress?.(reply.progress);
            settle();
            if (reply.type === 'done') resolve(reply.diagnosis as Diagnosis);
            else
              reject(
                reply.error.code
                  ? new KproxyError(reply.error.code, reply.error.message)
                  : new Error(reply.error.message),
              );
          },
        };
        const message: RunMessage = {
          id,
          cluster: job.cluster,
          target: job.target,
          clusterWide: job.clusterWide,
        };
        slot.thread.postMessage(message);
      });
    } catch (error) {
      // Cancelled, timed out or broken: this thread may still be busy; it is not reused.
      if (slot.job) await this.discard(slot);
      throw error;
    } finally {
      if (this.busy.delete(slot) && !this.closed && this.idle.length + this.busy.size < this.size)
        this.idle.push(slot);
    }
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
