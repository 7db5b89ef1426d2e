/**
 * Acks first: the work a command starts after its ack waits while other commands are still
 * between their arrival and their ack, so a burst of commands is acknowledged before any
 * of it is started (issue 16: the starts' posts and Redis steps ran between the acks on
 * the same event loop). Bounded: under a steady stream the queued starts run at the latest
 * `maxDelayMs` after they were queued. One per process (`acksFirst`): in `npm start` the
 * diagnose worker's own steps on the main thread (the report's rendering and posts) wait
 * their turn too; in a worker-only process nothing is ever in flight and nothing waits.
 */
export class AckFirst {
  private inFlight = 0;
  private readonly queued: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly maxDelayMs = 500) {}

  /** Runs a command's handling (up to and including its ack) as one in flight. */
  async acking<T>(handle: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await handle();
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.flushSoon();
    }
  }

  /** Resolves when no command waits for its ack (or after `maxDelayMs`). */
  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.queued.push(resolve);
      if (this.inFlight === 0) this.flushSoon();
      else this.timer ??= setTimeout(() => this.flush(), this.maxDelayMs);
    });
  }

  // setImmediate: after the I/O already read, which may hold more commands.
  private flushSoon(): void {
    setImmediate(() => {
      if (this.inFlight === 0) this.flush();
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const resolve of this.queued.splice(0)) resolve();
  }
}

/** The process' own: the bot's commands and the in-process worker's report steps share it. */
export const acksFirst = new AckFirst();
