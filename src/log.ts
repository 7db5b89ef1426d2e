/**
 * Structured JSON logs on stdout, one object per line, with secrets redacted: pino, with
 * its `redact` for secret-bearing keys and a formatter that scrubs token-shaped values out of
 * strings (an error message quoting a header, a URL with a token), which key paths cannot
 * catch. Bolt's own lines come through here too (src/bot/bolt-logger.ts).
 */
import { pino } from 'pino';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const secretPattern = /(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|Bearer [A-Za-z0-9._-]+)/g;
/** The keys that hold secrets anywhere in kproxy's log fields (env names, headers, options). */
const secretKeys = [
  'token',
  'secret',
  'password',
  'authorization',
  'signingSecret',
  'botToken',
  'appToken',
  'apiToken',
  'cookie',
];
/** pino redacts by path: the keys at the top and up to two levels down. */
const redactPaths = secretKeys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/** Token-shaped substrings of strings replaced, recursively (secret keys are pino's redact). */
function scrub(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(secretPattern, '[redacted]');
  if (Array.isArray(value)) return value.map(scrub);
  if (value && typeof value === 'object' && !(value instanceof Error))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]));
  return value;
}

/** Both at once, for callers outside the logger: secret keys and token-shaped values. */
export function redact(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(secretPattern, '[redacted]');
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, secretKeys.includes(k) ? '[redacted]' : redact(v)]),
    );
  }
  return value;
}

export function createLogger(
  component: string,
  write?: (line: string) => void,
  minLevel: Level = 'info',
): Logger {
  const destination = write ? { write: (chunk: string) => write(chunk.replace(/\n$/, '')) } : process.stdout;
  const base = pino(
    {
      level: minLevel,
      base: { component },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: '[redacted]' },
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => scrub(fields) as Record<string, unknown>,
      },
    },
    destination,
  );
  const log =
    (level: Level) =>
    (msg: string, fields: Record<string, unknown> = {}) =>
      base[level](fields, scrub(msg) as string);
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
