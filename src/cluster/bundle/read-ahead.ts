/**
 * Reads started before a later step needs them, so the thread pool reads while the main
 * thread parses (buildView's steps each await their reads in turn; the disk would idle
 * while a big list is parsed, and the main thread while the next file is read). Only the
 * reading moves earlier: the later step still takes the text where it took it before and
 * parses it there, so no more parsed objects are alive at once than without read-ahead.
 *
 * A read started ahead keeps its outcome, error included, for the step that takes it: a bad
 * file is reported exactly where and as it was (the first bad file in the steps' order), and
 * a read whose step never comes (an earlier file was refused) is never an unhandled rejection.
 */
import type { Collected } from '../collected.js';
import type { LogTail } from '../view.js';

/** A file to read ahead, as the step that takes it reads it. */
export type AheadRead = { readonly json: string } | { readonly text: string } | { readonly log: string };

interface Started<T> {
  readonly maxBytes: number;
  readonly result: Promise<T>;
}

/** A store's reads started ahead, each taken once (the text is then let go with its step). */
export class StartedReads {
  private readonly texts = new Map<string, Started<Collected<string>>>();
  private readonly logs = new Map<string, Started<Collected<LogTail>>>();

  startText(rel: string, maxBytes: number, read: () => Promise<Collected<string>>): void {
    if (!this.texts.has(rel)) this.texts.set(rel, { maxBytes, result: kept(read) });
  }

  startLog(rel: string, read: () => Promise<Collected<LogTail>>): void {
    if (!this.logs.has(rel)) this.logs.set(rel, { maxBytes: 0, result: kept(read) });
  }

  /** The read of `rel` started ahead with the same bound, or undefined (then read now). */
  takeText(rel: string, maxBytes: number): Promise<Collected<string>> | undefined {
    return take(this.texts, rel, maxBytes);
  }

  takeLog(rel: string): Promise<Collected<LogTail>> | undefined {
    return take(this.logs, rel, 0);
  }
}

function take<T>(reads: Map<string, Started<T>>, rel: string, maxBytes: number): Promise<T> | undefined {
  const started = reads.get(rel);
  if (!started || started.maxBytes !== maxBytes) return undefined;
  reads.delete(rel);
  return started.result;
}

/** The read, started now; its rejection is handled here and again by whoever takes it. */
function kept<T>(read: () => Promise<T>): Promise<T> {
  const result = read();
  result.catch(() => {});
  return result;
}

/**
 * Promise.all, except that when several fail the error is the first one's in the list, not
 * the first to fail in time: which of several bad files a bundle is refused for does not
 * depend on how its reads happened to interleave. Waits for every one to settle.
 */
export async function allInOrder<T extends readonly unknown[] | []>(
  values: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(values);
  for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}
