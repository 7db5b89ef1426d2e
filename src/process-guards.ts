/**
 * Process-level safety nets for the long-running entry points (bot, worker, all).
 *
 * - A promise rejection nobody handled is a bug in kproxy, never a reason to stop
 *   answering on-call engineers: it is logged as JSON and the process goes on. (Node 22
 *   would otherwise exit on it.)
 * - An uncaught exception leaves the process in an unknown state (Node's own advice): it
 *   is logged as JSON and the process exits 1 for the orchestrator to restart it; BullMQ
 *   hands its running jobs to another worker.
 * - Shutdown is bounded: whatever Redis, Slack or a job is doing, a SIGTERM ends the
 *   process within the grace period plus a margin.
 */
import { errorMessage } from './errors.js';
import type { Logger } from './log.js';

export function guardProcess(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled promise rejection (a kproxy bug; the process goes on)', {
      error: errorMessage(reason),
    });
  });
  process.on('uncaughtException', (error) => {
    logger.error('uncaught exception (a kproxy bug; exiting for a clean restart)', {
      error: errorMessage(error),
    });
    process.exit(1);
  });
}

/**
 * Stops on SIGTERM/SIGINT: runs `stop`, then exits 0; if `stop` has not finished within
 * `boundMs`, exits 1 saying so. A second signal exits at once.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger, boundMs: number): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal, boundSeconds: Math.round(boundMs / 1000) });
    const timer = setTimeout(() => {
      logger.error('shutdown did not finish within its bound: exiting', { boundSeconds: boundMs / 1000 });
      process.exit(1);
    }, boundMs);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (error) => {
        logger.error('shutdown failed', { error: errorMessage(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
