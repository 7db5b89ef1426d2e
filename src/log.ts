/** Structured JSON logs on stdout, one object per line, with secrets redacted. */
export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const secretPattern = /(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|Bearer [A-Za-z0-9._-]+)/g;
const secretKeys = /token|secret|password|authorization/i;

export function redact(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(secretPattern, '[redacted]');
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, secretKeys.test(k) ? '[redacted]' : redact(v)]),
    );
  }
  return value;
}

export function createLogger(
  component: string,
  write: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  minLevel: Level = 'info',
): Logger {
  const order: Level[] = ['debug', 'info', 'warn', 'error'];
  const log =
    (level: Level) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (order.indexOf(level) < order.indexOf(minLevel)) return;
      write(
        JSON.stringify({
          time: new Date().toISOString(),
          level,
          component,
          msg: redact(msg),
          ...(redact(fields) as object),
        }),
      );
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
