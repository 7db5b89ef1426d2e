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
}

const clockOf = (observedAt: Date): KlogClock => ({
  year: observedAt.getUTCFullYear(),
  latest: observedAt.getTime() + 24 * 3600 * 1000,
});

export function parseKlogLine(raw: string, observedAt: Date): KlogLine | undefined {
  return parseHeader(raw, clockOf(observedAt));
}

/**
 * A klog header, `^([IWEF])(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{1,6})\s+\d+\s+([^\]]+)\] ?(.*)$`,
 * read by hand: the same lines match, with the same fields (test/klog-header.test.ts holds
 * it to that regex). A regex match allocated an array and nine strings per line, and this
 * runs over a 5,000-line log per examined node on every diagnosis.
 */
function parseHeader(raw: string, clock: KlogClock): KlogLine | undefined {
  const sev = raw.charCodeAt(0);
  // I, W, E, F
  if (sev !== 73 && sev !== 87 && sev !== 69 && sev !== 70) return undefined;
  if (!fixedFields(raw)) return undefined;
  // (\d{1,6})\s+: a longer run of digits leaves a digit where a blank must be.
  const micros = digitsFrom(raw, 15);
  if (micros === 15 || micros > 21) return undefined;
  // \s+\d+\s+: each run is greedy and no shorter run could match instead.
  const thread = blanksFrom(raw, micros);
  if (thread === micros) return undefined;
  const afterThread = digitsFrom(raw, thread);
  if (afterThread === thread) return undefined;
  let source = blanksFrom(raw, afterThread);
  if (source === afterThread) return undefined;
  // ([^\]]+)\]: up to the first `]`; when it comes right after the blanks, the regex gives
  // the source their last blank (if there are two or more).
  const close = raw.indexOf(']', source);
  if (close < 0) return undefined;
  if (close === source) {
    if (source - afterThread < 2) return undefined;
    source--;
  }
  //  ?(.*)$: the rest holds no line terminator (`.` matches none).
  const message = raw.charCodeAt(close + 1) === 32 ? close + 2 : close + 1;
  lineTerminator.lastIndex = message;
  if (lineTerminator.test(raw)) return undefined;
  // Microseconds as written (1–6 digits, left-aligned): milliseconds are the first three.
  const ms =
    (raw.charCodeAt(15) - 48) * 100 +
    (micros > 16 ? (raw.charCodeAt(16) - 48) * 10 : 0) +
    (micros > 17 ? raw.charCodeAt(17) - 48 : 0);
  const mon = twoDigits(raw, 1) - 1;
  const day = twoDigits(raw, 3);
  const hh = twoDigits(raw, 6);
  const mm = twoDigits(raw, 9);
  const ss = twoDigits(raw, 12);
  let time = Date.UTC(clock.year, mon, day, hh, mm, ss, ms);
  if (time > clock.latest) time = Date.UTC(clock.year - 1, mon, day, hh, mm, ss, ms);
  return {
    severity: raw[0] as KlogSeverity,
    time: new Date(time),
    source: raw.slice(source, close),
    message: raw.slice(message),
    raw,
  };
}

const lineTerminator = /[\n\r\u2028\u2029]/g;

const isDigit = (c: number) => c >= 48 && c <= 57;

/** `\s` as JavaScript regexes read it: WhiteSpace and LineTerminator code points. */
const isBlank = (c: number) =>
  (c >= 9 && c <= 13) ||
  c === 32 ||
  c === 0xa0 ||
  c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) ||
  c === 0x2028 ||
  c === 0x2029 ||
  c === 0x202f ||
  c === 0x205f ||
  c === 0x3000 ||
  c === 0xfeff;

/** `MMDD hh:mm:ss.` at 1–14 (charCodeAt past the end is NaN: no digit, no match). */
function fixedFields(raw: string): boolean {
  return (
    isDigit(raw.charCodeAt(1)) &&
    isDigit(raw.charCodeAt(2)) &&
    isDigit(raw.charCodeAt(3)) &&
    isDigit(raw.charCodeAt(4)) &&
    raw.charCodeAt(5) === 32 &&
    isDigit(raw.charCodeAt(6)) &&
    isDigit(raw.charCodeAt(7)) &&
    raw.charCodeAt(8) === 58 &&
    isDigit(raw.charCodeAt(9)) &&
    isDigit(raw.charCodeAt(10)) &&
    raw.charCodeAt(11) === 58 &&
    isDigit(raw.charCodeAt(12)) &&
    isDigit(raw.charCodeAt(13)) &&
    raw.charCodeAt(14) === 46
  );
}

/** The index after the run of digits starting at `from`. */
function digitsFrom(raw: string, from: number): number {
  let i = from;
  while (isDigit(raw.charCodeAt(i))) i++;
  return i;
}

/** The index after the run of blanks (`\s`) starting at `from`. */
function blanksFrom(raw: string, from: number): number {
  let i = from;
  while (isBlank(raw.charCodeAt(i))) i++;
  return i;
}

/** The number written by the two ASCII digits at `at`. */
function twoDigits(text: string, at: number): number {
  return (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48;
}

/**
 * Parses every klog entry of a log, joining multi-line values to their entry. Lines that
 * belong to no entry (a Go panic's stack, utiltrace's `Trace[…]` lines) are skipped.
 */
export function parseKlog(lines: readonly string[], observedAt: Date): KlogLine[] {
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
    if (!parsed) continue;
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
