/**
 * `iptables-save` output: tables, declared chains, and rules. A node of a large cluster
 * holds 100,000+ rules; a chain's lines are found and tokenized only when a check reads
 * that chain.
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

/** Where a table's lines are: after its `*name` line, up to the next table's. */
interface Section {
  readonly table: string;
  /** The `\n` ending the `*name` line: every line of the section follows a `\n`. */
  readonly from: number;
  readonly to: number;
}

/**
 * Nothing is split or tokenized up front: a chain's lines are found by searching the text
 * when a check first reads that chain (an `iptables-save` of 10,000 Services is 19 MiB and
 * 180,000 lines; a diagnosis reads a few chains of it).
 */
export class IptablesSave {
  private readonly parsed = new Map<string, readonly IptablesRule[]>();
  private readonly lines = new Map<string, readonly string[]>();
  private readonly sections: readonly Section[];
  private count: number | undefined;

  /** @param text with `\n` line ends and no `[packets:bytes]` counters (parseIptablesSave). */
  constructor(private readonly text: string) {
    const sections: Section[] = [];
    let at = text.startsWith('*') ? 0 : text.indexOf('\n*');
    while (at >= 0) {
      const start = text[at] === '\n' ? at + 1 : at;
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const next = text.indexOf('\n*', end);
      sections.push({
        table: text.slice(start + 1, end).trim(),
        from: end,
        to: next < 0 ? text.length : next,
      });
      at = next;
    }
    this.sections = sections;
  }

  /** Rules (`-A` lines) in every table. */
  get ruleCount(): number {
    if (this.count === undefined) {
      let n = 0;
      for (const s of this.sections)
        for (
          let at = this.text.indexOf('\n-A ', s.from);
          at >= 0 && at < s.to;
          at = this.text.indexOf('\n-A ', at + 4)
        )
          n++;
      this.count = n;
    }
    return this.count;
  }

  /** Declared (`:CHAIN`) or holding a rule; stops at the first line found. */
  hasChain(table: string, chain: string): boolean {
    return this.first(table, `\n:${chain}`) || this.hasRules(table, chain);
  }

  /** Whether a chain holds a rule; stops at the first. */
  hasRules(table: string, chain: string): boolean {
    const lines = this.lines.get(`${table}/${chain}`);
    return lines ? lines.length > 0 : this.first(table, `\n-A ${chain}`);
  }

  /**
   * The rules of a chain whose line contains `text`: a Service's own rules among the
   * 10,000 of a large cluster's KUBE-SERVICES, without tokenizing the others. Unless the
   * chain was read already, `text` is what is searched for: the few lines holding it are
   * kept if they are the chain's, instead of cutting out the chain's 10,000 lines.
   */
  rulesContaining(table: string, chain: string, text: string): readonly IptablesRule[] {
    const key = `${table}/${chain}`;
    const cached = this.parsed.get(key);
    if (cached) return cached.filter((r) => r.raw.includes(text));
    const lines =
      this.lines.get(key) ?? (text === '' || text.includes('\n') ? this.chainLines(table, chain) : undefined);
    const found = lines ? lines.filter((l) => l.includes(text)) : this.linesHolding(table, chain, text);
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
      found = this.find(table, `\n-A ${chain}`);
      this.lines.set(key, found);
    }
    return found;
  }

  /** Lines of the table's chain that contain `text` (one line's worth, not empty), in order. */
  private linesHolding(table: string, chain: string, text: string): string[] {
    const out: string[] = [];
    const start = `-A ${chain}`;
    const { text: all } = this;
    for (const s of this.sections) {
      if (s.table !== table) continue;
      for (let at = all.indexOf(text, s.from); at >= 0 && at < s.to; ) {
        const from = all.lastIndexOf('\n', at) + 1;
        let end = all.indexOf('\n', at);
        if (end < 0) end = all.length;
        const after = all[from + start.length];
        if (all.startsWith(start, from) && (after === ' ' || from + start.length === end))
          out.push(all.slice(from, end));
        at = all.indexOf(text, end);
      }
    }
    return out;
  }

  /** Whether a line of the table starts as `find` requires; stops at the first. */
  private first(table: string, prefix: string): boolean {
    return this.find(table, prefix, 1).length > 0;
  }

  /** Lines of the table that start with `prefix` (after its `\n`) and then end or go on after a space. */
  private find(table: string, prefix: string, most = Number.POSITIVE_INFINITY): string[] {
    const out: string[] = [];
    const { text } = this;
    for (const s of this.sections) {
      if (s.table !== table) continue;
      for (let at = text.indexOf(prefix, s.from); at >= 0 && at < s.to; at = text.indexOf(prefix, at + 1)) {
        const after = at + prefix.length;
        if (after < text.length && text[after] !== ' ' && text[after] !== '\n') continue;
        let end = text.indexOf('\n', after);
        if (end < 0) end = text.length;
        out.push(text.slice(at + 1, end));
        if (out.length >= most) return out;
      }
    }
    return out;
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
