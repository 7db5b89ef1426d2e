/**
 * `iptables-save` output: tables, declared chains, and rules. A node of a large cluster
 * holds 100,000+ rules; lines are indexed by chain at once and tokenized only when a
 * check reads that chain.
 */
export interface IptablesRule {
  readonly table: string;
  readonly chain: string;
  readonly comment: string | undefined;
  readonly destination: string | undefined;
  readonly protocol: string | undefined;
  readonly dport: string | undefined;
  readonly jump: string | undefined;
  readonly toDestination: string | undefined;
  /** The rule as it appears in the capture (evidence quotes it verbatim). */
  readonly raw: string;
}

interface TableIndex {
  readonly chains: Set<string>;
  readonly lines: Map<string, string[]>;
}

export class IptablesSave {
  private readonly parsed = new Map<string, readonly IptablesRule[]>();

  constructor(
    private readonly tables: ReadonlyMap<string, TableIndex>,
    readonly ruleCount: number,
  ) {}

  hasChain(table: string, chain: string): boolean {
    return this.tables.get(table)?.chains.has(chain) ?? false;
  }

  /** Rules in a chain, without tokenizing them. */
  chainLength(table: string, chain: string): number {
    return this.tables.get(table)?.lines.get(chain)?.length ?? 0;
  }

  /**
   * The rules of a chain whose line contains `text`: a Service's own rules among the
   * 10,000 of a large cluster's KUBE-SERVICES, without tokenizing the others.
   */
  rulesContaining(table: string, chain: string, text: string): readonly IptablesRule[] {
    const cached = this.parsed.get(`${table}/${chain}`);
    if (cached) return cached.filter((r) => r.raw.includes(text));
    const lines = this.tables.get(table)?.lines.get(chain) ?? [];
    return lines.filter((l) => l.includes(text)).map((line) => parseRule(table, chain, line));
  }

  rules(table: string, chain: string): readonly IptablesRule[] {
    const key = `${table}/${chain}`;
    const cached = this.parsed.get(key);
    if (cached) return cached;
    const lines = this.tables.get(table)?.lines.get(chain) ?? [];
    const rules = lines.map((line) => parseRule(table, chain, line));
    this.parsed.set(key, rules);
    return rules;
  }
}

export function parseIptablesSave(text: string): IptablesSave {
  const tables = new Map<string, TableIndex>();
  let current: TableIndex | undefined;
  let count = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.charCodeAt(0) === 91 /* [ */) line = line.replace(/^\[\d+:\d+\]\s+/, '');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const first = line.charCodeAt(0);
    if (first === 42 /* * */) {
      const name = line.slice(1).trim();
      current = tables.get(name) ?? { chains: new Set(), lines: new Map() };
      tables.set(name, current);
    } else if (!current) {
    } else if (first === 58 /* : */) {
      const space = line.indexOf(' ');
      current.chains.add(space < 0 ? line.slice(1) : line.slice(1, space));
    } else if (line.startsWith('-A ')) {
      const space = line.indexOf(' ', 3);
      const chain = space < 0 ? line.slice(3) : line.slice(3, space);
      current.chains.add(chain);
      const list = current.lines.get(chain);
      if (list) list.push(line);
      else current.lines.set(chain, [line]);
      count++;
    }
  }
  return new IptablesSave(tables, count);
}

function parseRule(table: string, chain: string, line: string): IptablesRule {
  const args = tokenize(line);
  const flagValue = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  return {
    table,
    chain,
    comment: flagValue('--comment'),
    destination: flagValue('-d'),
    protocol: flagValue('-p'),
    dport: flagValue('--dport'),
    jump: flagValue('-j') ?? flagValue('-g'),
    toDestination: flagValue('--to-destination'),
    raw: line,
  };
}

/** Shell-like split that honours double quotes, as iptables-save writes comments. */
function tokenize(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    if (line[i] === '"') {
      let j = i + 1;
      let value = '';
      while (j < line.length && line[j] !== '"') {
        if (line[j] === '\\' && j + 1 < line.length) j++;
        value += line[j];
        j++;
      }
      out.push(value);
      i = j + 1;
    } else {
      const j = line.indexOf(' ', i);
      const end = j < 0 ? line.length : j;
      out.push(line.slice(i, end));
      i = end;
    }
  }
  return out;
}
