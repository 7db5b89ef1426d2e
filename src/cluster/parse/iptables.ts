/** `iptables-save` output: tables, declared chains, and the rules kproxy reads. */
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

export interface IptablesTable {
  readonly chains: ReadonlySet<string>;
  readonly rules: readonly IptablesRule[];
}

export class IptablesSave {
  private readonly byChain = new Map<string, IptablesRule[]>();

  constructor(readonly tables: ReadonlyMap<string, IptablesTable>) {
    for (const [table, t] of tables) {
      for (const rule of t.rules) {
        const key = `${table}/${rule.chain}`;
        const list = this.byChain.get(key);
        if (list) list.push(rule);
        else this.byChain.set(key, [rule]);
      }
    }
  }

  get ruleCount(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.rules.length;
    return n;
  }

  hasTable(table: string): boolean {
    return this.tables.has(table);
  }

  hasChain(table: string, chain: string): boolean {
    return this.tables.get(table)?.chains.has(chain) ?? false;
  }

  rules(table: string, chain: string): readonly IptablesRule[] {
    return this.byChain.get(`${table}/${chain}`) ?? [];
  }

  /** Declared chains of a table whose name starts with a prefix (e.g. KUBE-SVC-). */
  chainsWithPrefix(table: string, prefix: string): string[] {
    return [...(this.tables.get(table)?.chains ?? [])].filter((c) => c.startsWith(prefix));
  }
}

export function parseIptablesSave(text: string): IptablesSave {
  const tables = new Map<string, { chains: Set<string>; rules: IptablesRule[] }>();
  let current: { name: string; chains: Set<string>; rules: IptablesRule[] } | undefined;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/^\[\d+:\d+\]\s+/, '').trimEnd();
    if (line.startsWith('*')) {
      const name = line.slice(1).trim();
      const existing = tables.get(name);
      current = { name, chains: existing?.chains ?? new Set(), rules: existing?.rules ?? [] };
      tables.set(name, current);
    } else if (!current || line === '' || line.startsWith('#') || line === 'COMMIT') {
    } else if (line.startsWith(':')) {
      const chain = line.slice(1).split(/\s+/)[0];
      if (chain) current.chains.add(chain);
    } else if (line.startsWith('-A ')) {
      const rule = parseRule(current.name, line);
      if (rule) {
        current.rules.push(rule);
        current.chains.add(rule.chain);
      }
    }
  }
  return new IptablesSave(tables);
}

function parseRule(table: string, line: string): IptablesRule | undefined {
  const args = tokenize(line);
  const chain = args[1];
  if (!chain) return undefined;
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
