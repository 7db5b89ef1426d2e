/**
 * `iptables-save` output: tables, declared chains, and rules. A node of a large cluster
 * holds 100,000+ rules; a chain's lines are found and tokenized only when a check reads
 * that chain.
 */
import { type Section, sectionsOf, TableRules } from './iptables-index.js';

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

/**
 * Nothing is split or tokenized up front: the first question about a table indexes where
 * its chains' rules are (one pass over its rule lines, iptables-index.ts), and a chain's
 * lines are cut out and tokenized when a check first reads that chain (an `iptables-save`
 * of 10,000 Services is 19 MiB and 180,000 lines; a diagnosis reads a few chains of it).
 */
export class IptablesSave {
  private readonly parsed = new Map<string, readonly IptablesRule[]>();
  private readonly lines = new Map<string, readonly string[]>();
  private readonly tables = new Map<string, TableRules>();
  private readonly sections: readonly Section[];

  /** @param text with `\n` line ends and no `[packets:bytes]` counters (parseIptablesSave). */
  constructor(private readonly text: string) {
    this.sections = sectionsOf(text);
  }

  /** Rules (`-A` lines) in every table. */
  get ruleCount(): number {
    let n = 0;
    for (const table of new Set(this.sections.map((s) => s.table))) n += this.table(table).count;
    return n;
  }

  /** Declared (`:CHAIN`) or holding a rule; stops at the first line found. */
  hasChain(table: string, chain: string): boolean {
    return this.hasRules(table, chain) || this.table(table).declares(chain);
  }

  /** Whether a chain holds a rule; stops at the first. */
  hasRules(table: string, chain: string): boolean {
    const lines = this.lines.get(`${table}/${chain}`);
    return lines ? lines.length > 0 : this.table(table).lines(chain, 1).length > 0;
  }

  /**
   * The rules of a chain whose line contains `text`: a Service's own rules among the
   * 10,000 of a large cluster's KUBE-SERVICES, without tokenizing the others. Unless the
   * chain was read already, `text` is what is searched for (in the chain's lines only): the
   * few lines holding it are kept, instead of cutting out the chain's 10,000 lines.
   */
  rulesContaining(table: string, chain: string, text: string): readonly IptablesRule[] {
    const key = `${table}/${chain}`;
    const cached = this.parsed.get(key);
    if (cached) return cached.filter((r) => r.raw.includes(text));
    const lines =
      this.lines.get(key) ?? (text === '' || text.includes('\n') ? this.chainLines(table, chain) : undefined);
    const found = lines ? lines.filter((l) => l.includes(text)) : this.table(table).linesHolding(chain, text);
    return found.map((line) => parseRule(table, chain, line));
  }

  rules(table: string, chain: string): readonly IptablesRule[] {
    const key = `${table}/${chain}`;
    const cached = this.parsed.get(key);
    if (cached) return cached;
    const rules = this.chainLines(table, chain).map((line) => parseRule(table, chain, line));
    this.parsed.set(key, rules);
    return rules;
  }

  private chainLines(table: string, chain: string): readonly string[] {
    const key = `${table}/${chain}`;
    let found = this.lines.get(key);
    if (!found) {
      found = this.table(table).lines(chain);
      this.lines.set(key, found);
    }
    return found;
  }

  /** The table's rules, indexed on the first question about it. */
  private table(name: string): TableRules {
    let rules = this.tables.get(name);
    if (!rules) {
      rules = new TableRules(
        this.text,
        this.sections.filter((s) => s.table === name),
      );
      this.tables.set(name, rules);
    }
    return rules;
  }
}

export function parseIptablesSave(text: string): IptablesSave {
  let normal = text.includes('\r') ? text.replace(/\r$/gm, '') : text;
  // `iptables-save -c` prefixes each rule with its counters.
  if (normal.startsWith('[') || normal.includes('\n[')) normal = normal.replace(/^\[\d+:\d+\]\s+/gm, '');
  return new IptablesSave(normal);
}

/**
 * The `*table` and `COMMIT` lines of a dump, as `/^\*\w+$/gm` and `/^COMMIT$/gm` count
 * them, found with indexOf: two multi-line regex scans of a 19 MiB dump cost ~20 ms.
 */
export function tableLines(text: string): { tables: number; commits: number } {
  const lineStart = (at: number) => at === 0 || isLineTerminator(text.charCodeAt(at - 1));
  const lineEnd = (at: number) => at === text.length || isLineTerminator(text.charCodeAt(at));
  let tables = 0;
  for (let at = text.indexOf('*'); at >= 0; at = text.indexOf('*', at + 1)) {
    if (!lineStart(at)) continue;
    let end = at + 1;
    while (isWordChar(text.charCodeAt(end))) end++;
    if (end > at + 1 && lineEnd(end)) tables++;
  }
  let commits = 0;
  for (let at = text.indexOf('COMMIT'); at >= 0; at = text.indexOf('COMMIT', at + 1))
    if (lineStart(at) && lineEnd(at + 6)) commits++;
  return { tables, commits };
}

/** What `^` and `$` of a multi-line regex stop at. */
const isLineTerminator = (c: number) => c === 10 || c === 13 || c === 0x2028 || c === 0x2029;

/** `\w`: ASCII letters, digits and `_`. */
const isWordChar = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

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
