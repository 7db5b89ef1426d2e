/**
 * The client's-eye probe's matrix: what the probe pod's script prints, one line per path
 * it tried, read strictly (runbooks 000 §2 and §4, 004's decision tree and one-line smoke
 * test). The format (`kproxy-probe v1`):
 *
 *   kproxy-probe v1 node=<node> namespace=<ns> as=<client ns/name | ->
 *   dns <name> ok <ip>[,<ip>…] | nxdomain | servfail | empty | timeout | error <code>
 *   vip|endpoint|nodeport|apiserver <address> ok <http status | -> | refused | timeout | unresolved | error <code>
 *   end
 *
 * Anything else (an unknown kind or outcome, a line after `end`, no `end`: a cut stream)
 * makes the whole matrix unreadable: it is never half-read into a verdict.
 */
export const probeKinds = ['dns', 'vip', 'endpoint', 'nodeport', 'apiserver'] as const;
export type ProbeKind = (typeof probeKinds)[number];

export const dnsOutcomes = ['ok', 'nxdomain', 'servfail', 'empty', 'timeout', 'error'] as const;
export const connectOutcomes = ['ok', 'refused', 'timeout', 'unresolved', 'error'] as const;

export interface ProbeRow {
  readonly kind: ProbeKind;
  /** The name (dns) or `ip:port` / `[ipv6]:port` / `host:port` (the rest). */
  readonly target: string;
  readonly outcome: string;
  /** dns ok: the addresses; connect ok: the HTTP status or `-`; error: the tool's exit code. */
  readonly detail?: string;
}

export interface ProbeMatrix {
  readonly node: string;
  /** The namespace the probe pod ran in. */
  readonly namespace: string;
  /** The client whose labels the probe pod carried (`ns/name`), or null: kproxy's own labels only. */
  readonly as: string | null;
  readonly rows: readonly ProbeRow[];
}

export class ProbeFormatError extends Error {}

const header = /^kproxy-probe v1 node=(\S+) namespace=(\S+) as=(\S+)$/;
const address = String.raw`(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}`;
const rowPatterns: Readonly<Record<ProbeKind, RegExp>> = {
  dns: /^dns ([A-Za-z0-9.-]+) (?:(ok) ([0-9a-fA-F:.,]+)|(nxdomain|servfail|empty|timeout)|(error) (\S+))$/,
  vip: connectRow('vip'),
  endpoint: connectRow('endpoint'),
  nodeport: connectRow('nodeport'),
  apiserver: connectRow('apiserver'),
};

function connectRow(kind: string): RegExp {
  return new RegExp(`^${kind} (${address}) (?:(ok) (\\d{3}|-)|(refused|timeout|unresolved)|(error) (\\S+))$`);
}

/** Parses the probe's stdout; throws ProbeFormatError naming the first bad line. */
export function parseProbeOutput(text: string): ProbeMatrix {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const head = header.exec(lines[0] ?? '');
  if (!head)
    throw new ProbeFormatError(
      `line 1: expected "kproxy-probe v1 node=… namespace=… as=…", got "${clip(lines[0])}"`,
    );
  const end = lines.indexOf('end');
  if (end < 0) throw new ProbeFormatError('no "end" line: the output was cut short');
  if (end !== lines.length - 1) throw new ProbeFormatError(`line ${end + 2}: text after "end"`);
  const rows = lines.slice(1, end).map((line, i) => parseRow(line, i + 2));
  return {
    node: head[1] as string,
    namespace: head[2] as string,
    as: head[3] === '-' ? null : (head[3] as string),
    rows,
  };
}

function parseRow(line: string, n: number): ProbeRow {
  const kind = line.split(' ', 1)[0] as ProbeKind;
  const pattern = rowPatterns[kind];
  const m = pattern?.exec(line);
  if (!m) throw new ProbeFormatError(`line ${n}: not a probe row: "${clip(line)}"`);
  const [, target, ...rest] = m;
  const groups = rest.filter((g): g is string => g !== undefined);
  const [outcome, detail] = groups as [string, string | undefined];
  return { kind, target: target as string, outcome, ...(detail !== undefined ? { detail } : {}) };
}

/** One row as the script prints it (the test API server answers with these). */
export function formatProbeRow(row: ProbeRow): string {
  return [row.kind, row.target, row.outcome, row.detail].filter((p) => p !== undefined).join(' ');
}

export function formatProbeOutput(matrix: ProbeMatrix): string {
  return `${[
    `kproxy-probe v1 node=${matrix.node} namespace=${matrix.namespace} as=${matrix.as ?? '-'}`,
    ...matrix.rows.map(formatProbeRow),
    'end',
  ].join('\n')}\n`;
}

/** A row reached its target: DNS answered with addresses, or a TCP connection was made. */
export function rowOk(row: ProbeRow): boolean {
  return row.outcome === 'ok';
}

function clip(s: string | undefined): string {
  const t = s ?? '';
  return t.length > 80 ? `${t.slice(0, 80)}…` : t;
}
