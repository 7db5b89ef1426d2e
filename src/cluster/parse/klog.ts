/**
 * klog text lines: `E0312 17:42:27.088399       1 proxier.go:1507] "msg" key="value"`.
 * klog omits the year; it is taken from the observation time (and the year before, for a
 * line that would otherwise lie in the future, as around New Year).
 */
export type KlogSeverity = 'I' | 'W' | 'E' | 'F';

export interface KlogLine {
  readonly severity: KlogSeverity;
  readonly time: Date;
  /** `proxier.go:1507` */
  readonly source: string;
  /** Everything after `] `. */
  readonly message: string;
  readonly raw: string;
}

const klogHeader = /^([IWEF])(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{1,6})\s+\d+\s+([^\]]+)\] ?(.*)$/;

export function parseKlogLine(raw: string, observedAt: Date): KlogLine | undefined {
  const m = klogHeader.exec(raw);
  if (!m) return undefined;
  const [, sev, mon, day, hh, mm, ss, micros = '0', source = '', message = ''] = m;
  let year = observedAt.getUTCFullYear();
  const at = (y: number) =>
    new Date(
      Date.UTC(
        y,
        Number(mon) - 1,
        Number(day),
        Number(hh),
        Number(mm),
        Number(ss),
        Math.floor(Number(micros.padEnd(6, '0')) / 1000),
      ),
    );
  let time = at(year);
  if (time.getTime() > observedAt.getTime() + 24 * 3600 * 1000) time = at(--year);
  return { severity: sev as KlogSeverity, time, source, message, raw };
}

/** Parses every klog line of a log, skipping continuation lines of multi-line values. */
export function parseKlog(lines: readonly string[], observedAt: Date): KlogLine[] {
  const out: KlogLine[] = [];
  for (const line of lines) {
    const parsed = parseKlogLine(line, observedAt);
    if (parsed) out.push(parsed);
  }
  return out;
}

/** The value of a structured `key="value"` or `key=value` pair in a klog message. */
export function klogValue(message: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${key}=("((?:[^"\\\\]|\\\\.)*)"|\\S+)`).exec(message);
  if (!m) return undefined;
  return m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[1];
}
