/**
 * Bolt's (and its receivers' and WebClient's) log lines through kproxy's JSON logger, so
 * that every line a process writes is one JSON object: Bolt's default logger prints plain
 * `[WARN]  bolt-app …` text to stderr.
 */
import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from '../log.js';

const order = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];

export function boltLogger(logger: Logger, initial: LogLevel = LogLevel.WARN): SlackLogger {
  let level = initial;
  let name = 'bolt';
  const at =
    (lineLevel: LogLevel, write: Logger['info']) =>
    (...parts: unknown[]) => {
      if (order.indexOf(lineLevel) < order.indexOf(level)) return;
      write(
        parts
          .map((p) => (p instanceof Error ? p.message : typeof p === 'string' ? p : JSON.stringify(p)))
          .join(' '),
        {
          source: name,
        },
      );
    };
  return {
    debug: at(LogLevel.DEBUG, logger.debug),
    info: at(LogLevel.INFO, logger.info),
    warn: at(LogLevel.WARN, logger.warn),
    error: at(LogLevel.ERROR, logger.error),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: (n: string) => {
      name = n;
    },
  };
}
