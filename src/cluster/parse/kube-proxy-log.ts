/**
 * A kube-proxy container log in either of the formats kube-proxy writes: klog text (the
 * default) or `--logging-format=json`. JSON entries are turned into the same KlogLine
 * shape, so the checks read one vocabulary; the raw JSON line is kept for quoting.
 *
 * JSON field names are those of k8s.io/component-base/logs/json (json.go): `ts` (epoch
 * milliseconds as a float, `epochMillisTimeEncoder`), `caller`, `msg`, `v` (the verbosity
 * of info entries, `zapr.LogInfoLevel("v")`), `err` (`zapr.ErrorKey("err")`). Error entries
 * carry no `v`. Older documentation shows `ts` in seconds; both are accepted.
 */
import { type KlogLine, parseKlog, parseKlogText } from './klog.js';

export type LogFormat = 'klog' | 'json' | 'mixed' | 'unknown';

export interface ParsedLog {
  readonly entries: readonly KlogLine[];
  readonly format: LogFormat;
  /** Non-blank lines in the log. */
  readonly lines: number;
}

const reserved = new Set(['ts', 'caller', 'msg', 'v', 'logger']);
const nonBlankLine = /\S/;

export function parseJsonLogLine(raw: string): KlogLine | undefined {
  if (!raw.startsWith('{')) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const o = doc as Record<string, unknown>;
  if (typeof o.msg !== 'string' || typeof o.ts !== 'number') return undefined;
  // Epoch seconds would be ~1.7e9; epoch milliseconds ~1.7e12.
  const time = new Date(o.ts > 1e11 ? o.ts : o.ts * 1000);
  if (Number.isNaN(time.getTime())) return undefined;
  const pairs = Object.entries(o)
    .filter(([k]) => !reserved.has(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return {
    severity: 'v' in o ? 'I' : 'E',
    time,
    source: typeof o.caller === 'string' ? o.caller : '',
    message: [JSON.stringify(o.msg), ...pairs].join(' '),
    raw,
  };
}

/** Every entry of a log, in order, whichever format each line is in. */
export function parseKubeProxyLog(lines: readonly string[], observedAt: Date): ParsedLog {
  // klog text only (the default format): no line is sorted by format, and the non-blank
  // lines are counted only when a message needs them (no entry could be read).
  const klogOnly = parseKlogText(lines, observedAt);
  if (klogOnly) {
    const entries = klogOnly;
    return {
      entries,
      format: entries.length > 0 ? 'klog' : 'unknown',
      get lines() {
        return lines.filter((l) => nonBlankLine.test(l)).length;
      },
    };
  }
  const entries: KlogLine[] = [];
  let textRun: string[] = [];
  let json = 0;
  let text = 0;
  let nonBlank = 0;
  const flush = () => {
    if (textRun.length === 0) return;
    const parsed = parseKlog(textRun, observedAt);
    text += parsed.length;
    entries.push(...parsed);
    textRun = [];
  };
  for (const line of lines) {
    if (nonBlankLine.test(line)) nonBlank++;
    const entry = parseJsonLogLine(line);
    if (!entry) {
      textRun.push(line);
      continue;
    }
    flush();
    entries.push(entry);
    json++;
  }
  flush();
  const format: LogFormat =
    json > 0 && text > 0 ? 'mixed' : json > 0 ? 'json' : text > 0 ? 'klog' : 'unknown';
  return { entries, format, lines: nonBlank };
}
