/**
 * klog text lines: `E0312 17:42:27.088399       1 proxier.go:1507] "msg" key="value"`.
 * klog omits the year; it is taken from the observation time (and the year before, for a
 * line that would otherwise lie in the future, as around New Year).
 *
 * Multi-line values are written by klog as `key=<`, then each line of the value indented
 * by a tab, then ` >` (klog `internal/serialize/keyvalues.go`, writeStringValue); further
 * key/value pairs follow the ` >` on the same line. kube-proxy prints iptables-restore
 * errors that way (kubernetes/kube-proxy#25, k3s-io/k3s#11098), so those lines are joined
 * to their entry, not dropped: the xtables-lock text lives in them.
 */
export type KlogSeverity = 'I' | 'W' | 'E' | 'F';

export interface KlogLine {
  readonly severity: KlogSeverity;
  readonly time: Date;
  /** `proxier.go:1507` */
  readonly source: string;
  /** Everything after `] `, multi-line values joined onto one line. */
  readonly message: string;
  /** The entry as printed, its continuation lines joined with spaces. */
  readonly raw: string;
}

/** The observation time as the year rule needs it, computed once per log, not per line. */
interface KlogClock {
  readonly year: number;
  /** A line later than this lies in the future: it was written the year before. */
  readonly latest: number;
  /** `Date.UTC(year, month, 1)` by `year * 128 + month + 1`: a log spans a few months. */
  readonly months: Map<number, number>;
  /** The key and value of the last month looked up: a log's lines come month after month. */
  lastKey: number;
  lastFirst: number;
}

const clockOf = (observedAt: Date): KlogClock => ({
  year: observedAt.getUTCFullYear(),
  latest: observedAt.getTime() + 24 * 3600 * 1000,
  months: new Map(),
  lastKey: Number.NaN,
  lastFirst: 0,
});

/**
 * `Date.UTC(year, month, day, hh, mm, ss, ms)`, from the month's first day: the same
 * integer (ECMA-262 MakeDay/MakeTime/MakeDate add whole days and milliseconds), including
 * out-of-range fields, which roll over as in Date.UTC.
 */
function utc(
  clock: KlogClock,
  year: number,
  month: number,
  day: number,
  hh: number,
  mm: number,
  ss: number,
  ms: number,
): number {
  const key = year * 128 + month + 1;
  let first = clock.lastFirst;
  if (key !== clock.lastKey) {
    const known = clock.months.get(key);
    first = known ?? Date.UTC(year, month, 1);
    if (known === undefined) clock.months.set(key, first);
    clock.lastKey = key;
    clock.lastFirst = first;
  }
  const time = first + (day - 1) * 86_400_000 + hh * 3_600_000 + mm * 60_000 + ss * 1000 + ms;
  // TimeClip: beyond ±8.64e15 ms there is no Date.
  return Math.abs(time) > 8.64e15 ? Number.NaN : time;
}

export function parseKlogLine(raw: string, observedAt: Date): KlogLine | undefined {
  return parseHeader(raw, clockOf(observedAt));
}

/**
 * A klog header: `^([IWEF])(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{1,6})\s+\d+\s+([^\]]+)\] ?(.*)$`,
 * with the fixed-width fields (severity, month, day, time, the microseconds from offset
 * 15) read by position from the matched line rather than captured: nine strings and a
 * Number() each fewer per line, on a 5,000-line log per examined node, every diagnosis
 * (test/klog-header.test.ts holds the fields to the full regex's).
 */
const klogHeader = /^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{1,6}\s+\d+\s+([^\]]+)\] ?(.*)$/;

function parseHeader(raw: string, clock: KlogClock): KlogLine | undefined {
  const m = klogHeader.exec(raw);
  if (!m) return undefined;
  // Microseconds as written (1–6 digits from offset 15, left-aligned, then a blank):
  // milliseconds are the first three.
  const d2 = isDigit(raw, 16);
  const ms =
    (raw.charCodeAt(15) - 48) * 100 +
    (d2 ? (raw.charCodeAt(16) - 48) * 10 : 0) +
    (d2 && isDigit(raw, 17) ? raw.charCodeAt(17) - 48 : 0);
  const mon = twoDigits(raw, 1) - 1;
  const day = twoDigits(raw, 3);
  const hh = twoDigits(raw, 6);
  const mm = twoDigits(raw, 9);
  const ss = twoDigits(raw, 12);
  let time = utc(clock, clock.year, mon, day, hh, mm, ss, ms);
  if (time > clock.latest) time = utc(clock, clock.year - 1, mon, day, hh, mm, ss, ms);
  return {
    severity: raw[0] as KlogSeverity,
    time: new Date(time),
    source: m[1] as string,
    message: m[2] as string,
    raw,
  };
}

/** Whether `text` has an ASCII digit (what `\d` reads without the `u` flag) at `at`. */
function isDigit(text: string, at: number): boolean {
  const c = text.charCodeAt(at);
  return c >= 48 && c <= 57;
}

/** The number written by the two ASCII digits at `at` (the header regex matched them). */
function twoDigits(text: string, at: number): number {
  return (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48;
}

/**
 * Parses every klog entry of a log, joining multi-line values to their entry. Lines that
 * belong to no entry (a Go panic's stack, utiltrace's `Trace[…]` lines) are skipped.
 */
export function parseKlog(lines: readonly string[], observedAt: Date): KlogLine[] {
  return readKlog(lines, observedAt, false) as KlogLine[];
}

/**
 * parseKlog of a log with no line starting with `{`, else undefined: such a log may hold
 * `--logging-format=json` entries, which kube-proxy-log.ts reads line by line. One pass
 * where a scan for `{` first would read every line twice; only a line that is no klog
 * header is looked at.
 */
export function parseKlogText(lines: readonly string[], observedAt: Date): KlogLine[] | undefined {
  return readKlog(lines, observedAt, true);
}

function readKlog(lines: readonly string[], observedAt: Date, textOnly: boolean): KlogLine[] | undefined {
  const out: KlogLine[] = [];
  const clock = clockOf(observedAt);
  // The entry being read: its header line and what its continuation lines added.
  let head: KlogLine | undefined;
  let message = '';
  let raw = '';
  let joined = false;
  // Inside a `key=<` value: tab-indented lines belong to it until ` >`.
  let open = false;
  for (const line of lines) {
    if (open && line.startsWith('\t')) {
      const text = line.slice(1).trim();
      if (text) {
        message += ` ${text}`;
        raw += ` ${text}`;
        joined = true;
      }
      continue;
    }
    if (open && line.startsWith(' >')) {
      const rest = line.slice(2);
      message += ` >${rest}`;
      raw += ` >${rest}`;
      joined = true;
      open = rest.endsWith('=<');
      continue;
    }
    const parsed = parseHeader(line, clock);
    if (!parsed) {
      // A klog header starts with I, W, E or F: a `{` line is never one.
      if (textOnly && line.charCodeAt(0) === 123) return undefined;
      continue;
    }
    // Most entries are one line: their parsed header is the entry.
    if (head) out.push(joined ? { ...head, message, raw } : head);
    head = parsed;
    message = parsed.message;
    raw = parsed.raw;
    joined = false;
    open = message.endsWith('=<');
  }
  if (head) out.push(joined ? { ...head, message, raw } : head);
  return out;
}

/**
 * The value of a structured `key="value"`, `key=value` or joined multi-line `key=< … >`
 * pair in a klog message.
 */
export function klogValue(message: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${key}=(?:<\\s?(.*?)\\s>(?=\\s|$)|"((?:[^"\\\\]|\\\\.)*)"|(\\S+))`).exec(
    message,
  );
  if (!m) return undefined;
  if (m[1] !== undefined) return m[1];
  return m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
}
