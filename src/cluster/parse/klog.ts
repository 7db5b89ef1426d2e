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

const klogHeader = /^([IWEF])(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{1,6})\s+\d+\s+([^\]]+)\] ?(.*)$/;

export function parseKlogLine(raw: string, observedAt: Date): KlogLine | undefined {
  const m = klogHeader.exec(raw);
  if (!m) return undefined;
  const [, sev, mon, day, hh, mm, ss, micros = '0', source = '', message = ''] = m;
  // Microseconds as written (1–6 digits, left-aligned): milliseconds are the first three.
  const ms = Number(micros.length >= 3 ? micros.slice(0, 3) : micros.padEnd(3, '0'));
  const at = (year: number) =>
    Date.UTC(year, Number(mon) - 1, Number(day), Number(hh), Number(mm), Number(ss), ms);
  let time = at(observedAt.getUTCFullYear());
  if (time > observedAt.getTime() + 24 * 3600 * 1000) time = at(observedAt.getUTCFullYear() - 1);
  return { severity: sev as KlogSeverity, time: new Date(time), source, message, raw };
}

/** An entry being read: its header line and the continuation lines seen so far. */
interface Pending {
  head: KlogLine;
  message: string;
  raw: string;
  /** Inside a `key=<` value: tab-indented lines belong to it until ` >`. */
  open: boolean;
}

function finish(p: Pending): KlogLine {
  // Most entries are one line: their parsed header is the entry.
  return p.message === p.head.message && p.raw === p.head.raw
    ? p.head
    : { ...p.head, message: p.message, raw: p.raw };
}

/**
 * Parses every klog entry of a log, joining multi-line values to their entry. Lines that
 * belong to no entry (a Go panic's stack, utiltrace's `Trace[…]` lines) are skipped.
 */
export function parseKlog(lines: readonly string[], observedAt: Date): KlogLine[] {
  const out: KlogLine[] = [];
  let pending: Pending | undefined;
  for (const line of lines) {
    if (pending?.open && line.startsWith('\t')) {
      const text = line.slice(1).trim();
      if (text) {
        pending.message += ` ${text}`;
        pending.raw += ` ${text}`;
      }
      continue;
    }
    if (pending?.open && line.startsWith(' >')) {
      const rest = line.slice(2);
      pending.message += ` >${rest}`;
      pending.raw += ` >${rest}`;
      pending.open = rest.endsWith('=<');
      continue;
    }
    const parsed = parseKlogLine(line, observedAt);
    if (!parsed) continue;
    if (pending) out.push(finish(pending));
    pending = { head: parsed, message: parsed.message, raw: parsed.raw, open: parsed.message.endsWith('=<') };
  }
  if (pending) out.push(finish(pending));
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
