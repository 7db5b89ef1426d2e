/**
 * A diagnosis thread (worker_threads): reads the cluster and runs the engine off the
 * process's main event loop, so a bot in the same process keeps acknowledging commands
 * while a large cluster is parsed and checked (issue 16: up to ~0.5 s of synchronous work
 * on 5,000 nodes). One diagnosis at a time; the pool (diagnosis-threads.ts) hands out
 * the jobs. Messages in: `RunMessage`. Out: progress, then the diagnosis or the failure.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { Target } from '../cluster/view.js';
import type { ClusterConfig } from '../config/config.js';
import { diagnoseSource } from '../engine/engine.js';
import { KproxyError } from '../errors.js';
import { defaultSourceFor } from './diagnose-worker.js';

export interface RunMessage {
  readonly type: 'run';
  readonly id: number;
  readonly cluster: ClusterConfig;
  readonly target: Target;
  readonly clusterWide: boolean;
}

/** The job's deadline passed or it was cancelled: its API requests are aborted as on the main thread. */
export interface AbortMessage {
  readonly type: 'abort';
  readonly id: number;
  readonly timedOut: boolean;
}

export type ThreadReply =
  | { readonly type: 'ready' }
  | {
      readonly id: number;
      readonly type: 'progress';
      readonly progress: { phase: string; done: number; total: number };
    }
  | { readonly id: number; readonly type: 'done'; readonly diagnosis: unknown }
  | {
      readonly id: number;
      readonly type: 'failed';
      readonly error: { message: string; code?: KproxyError['code'] };
    };

/**
 * Below the process' priority: on a busy machine the bot's acks (the main thread) get the
 * CPU before a diagnosis does. On Linux a thread is a task with a nice value of its own
 * (setpriority(2) on its thread id, found through /proc/thread-self); elsewhere, or if
 * refused, the thread keeps the process' priority.
 */
function yieldCpuToTheBot(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    // Ten steps below (PRIORITY_BELOW_NORMAL from the default), at most the lowest (19).
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, Math.min(19, getPriority(tid) + 10));
  } catch {
    // not Linux, or not permitted
  }
}

const port = parentPort;
if (port) {
  yieldCpuToTheBot();
  const reply = (message: ThreadReply) => port.postMessage(message);
  const running = new Map<number, AbortController>();
  port.on('message', async (message: RunMessage | AbortMessage) => {
    const { id } = message;
    if (message.type === 'abort') {
      running
        .get(id)
        ?.abort(message.timedOut ? new DOMException('deadline', 'TimeoutError') : new Error('cancelled'));
      return;
    }
    // The source's requests stop on abort, and its clean-ups (a capture pod's deletion) still run.
    const controller = new AbortController();
    running.set(id, controller);
    try {
      const source = await defaultSourceFor(message.cluster, controller.signal);
      const diagnosis = await diagnoseSource(
        source,
        { target: message.target, clusterWide: message.clusterWide },
        { onProgress: (progress) => reply({ id, type: 'progress', progress }) },
      );
      reply({ id, type: 'done', diagnosis });
    } catch (error) {
      reply({
        id,
        type: 'failed',
        error:
          error instanceof KproxyError
            ? { message: error.message, code: error.code }
            : { message: error instanceof Error ? error.message : String(error) },
      });
    } finally {
      running.delete(id);
    }
  });
  reply({ type: 'ready' });
}
