/**
 * Repeated warnings and errors logged once per interval. While Redis or Slack is down,
 * every connection reports the same failure on each reconnect attempt (several times a
 * second across a process' connections); an operator needs the first line and a count,
 * not thousands of copies.
 */
import type { Logger } from './log.js';

interface Seen {
  since: number;
  suppressed: number;
}

/**
 * Wraps a logger: a warn/error line with the same level, message and `error` field as one
 * logged less than `intervalMs` ago is counted instead of written; the next one written
 * after the interval carries `repeated: N`. Debug and info lines pass untouched.
 */
export function logRepeatsOnce(logger: Logger, intervalMs = 30_000, now: () => number = Date.now): Logger {
  const seen = new Map<string, Seen>();
  const throttle =
    (level: 'warn' | 'error') =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      const key = `${level}\u0000${msg}\u0000${String(fields.error ?? '')}`;
      const at = now();
      const entry = seen.get(key);
      if (entry && at - entry.since < intervalMs) {
        entry.suppressed += 1;
        return;
      }
      const repeated = entry?.suppressed ?? 0;
      seen.set(key, { since: at, suppressed: 0 });
      if (seen.size > 1000) forgetOld(seen, at, intervalMs);
      logger[level](msg, repeated > 0 ? { ...fields, repeated } : fields);
    };
  return {
    debug: (msg, fields) => logger.debug(msg, fields),
    info: (msg, fields) => logger.info(msg, fields),
    warn: throttle('warn'),
    error: throttle('error'),
  };
}

function forgetOld(seen: Map<string, Seen>, at: number, intervalMs: number): void {
  for (const [key, entry] of seen) if (at - entry.since >= intervalMs) seen.delete(key);
}
