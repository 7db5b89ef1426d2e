/**
 * Where each chain's rules are in an `iptables-save` dump, found in one pass over its rule
 * lines: a diagnosis reads a Service's chain, its endpoint chains and a few lines of
 * KUBE-SERVICES out of 130,000 rules, and a search for each of them through the 19 MiB
 * text (what the checks did before) cost ~5 ms apiece.
 */

/** Where a table's lines are: after its `*name` line, up to the next table's. */
export interface Section {
  readonly table: string;
  /** The `\n` ending the `*name` line: every line of the section follows a `\n`. */
  readonly from: number;
  /** The `\n` before the next `*` line, or the end of the text. */
  readonly to: number;
}

/**
 * The `*table` lines of a dump (lines starting with `*`) and the lines each one heads. `*`
 * is searched for alone, as a rare character (one memchr over 19 MiB) rather than `\n*`
 * (a stop at every line).
 */
export function sectionsOf(text: string): Section[] {
  const starts: number[] = [];
  for (let at = text.indexOf('*'); at >= 0; at = text.indexOf('*', at + 1))
    if (at === 0 || text.charCodeAt(at - 1) === 10) starts.push(at);
  return starts.map((start, i) => {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const next = starts[i + 1];
    return {
      table: text.slice(start + 1, end).trim(),
      from: end,
      to: next === undefined ? text.length : next - 1,
    };
  });
}

/**
 * Rules are grouped by the chain name's 10th character (past `KUBE-SEP-`, `KUBE-SVC-`: the
 * first of the hash kube-proxy names its chains by): reading it needs neither the name's
 * end nor a string per line, so indexing costs little more than counting the rules (a
 * string or a map entry per chain, ~50,000 of them, cost three times as much). iptables-save
 * prints each chain's rules together, chains in name order (libiptc keeps them sorted,
 * `iptc_insert_chain`; the nf_tables capture in scripts/real-captures is sorted too), so a
 * run of one key holds ~1/32 of the KUBE-SEP- chains. Any order gives the same answers: a
 * chain is looked for in every run of its key, each line matched against the whole
 * `-A CHAIN` asked for (and a table in no order at all is searched whole, `manyRuns`). A
 * name too short to have a key is looked for in the whole table.
 */
const keyAt = 9;
const keys = 128;
/**
 * A table whose runs are this many and shorter than two lines on average (chains printed
 * in no order) is not indexed: looking through thousands of one-line runs costs more than
 * one search of the table, and each run a write while indexing.
 */
const manyRuns = 1024;

/** The rule lines (`-A CHAIN …`) of one table, as runs of consecutive rule lines of one key. */
export class TableRules {
  /** Number of rule lines. */
  readonly count: number;
  /**
   * Run i at 3i: the `\n` before its first line; where it ends (the `\n` before the next
   * run's first line, or the section's end: lines that are not rules may lie in between);
   * and the previous run of its key (or -1).
   */
  private readonly runs: number[] = [];
  /** The last run of each key, or -1. */
  private readonly latest = new Int32Array(keys).fill(-1);
  /** Whether the runs are kept (else every chain is looked for in the whole table). */
  private indexed = true;

  constructor(
    private readonly text: string,
    private readonly sections: readonly Section[],
  ) {
    let count = 0;
    for (const s of sections) count = this.index(s, count);
    this.count = count;
    if (!this.indexed) this.runs.length = 0;
  }

  /** The chain's lines in order (each from `-A` to its end), or only the first `most`. */
  lines(chain: string, most = Number.POSITIVE_INFINITY): string[] {
    return this.search(`\n-A ${chain}`, this.piecesOf(chain), most);
  }

  /** Lines of the chain that contain `text` (no `\n` in it, not empty), in order. */
  linesHolding(chain: string, text: string): string[] {
    const out: string[] = [];
    const prefix = `-A ${chain}`;
    for (const [from, to] of this.piecesOf(chain)) {
      // A slice (no copy) ends the search at the piece's end, not at the end of the text.
      const piece = this.text.slice(from, to);
      for (let at = piece.indexOf(text); at >= 0; ) {
        const start = piece.lastIndexOf('\n', at) + 1;
        let end = piece.indexOf('\n', at);
        if (end < 0) end = piece.length;
        const after = start + prefix.length;
        if (piece.startsWith(prefix, start) && (after === end || piece[after] === ' '))
          out.push(piece.slice(start, end));
        at = piece.indexOf(text, end);
      }
    }
    return out;
  }

  /** Whether the table has a line `:CHAIN …`. */
  declares(chain: string): boolean {
    return this.search(`\n:${chain}`, this.sections.map(bounds), 1).length > 0;
  }

  /**
   * Counts the section's rule lines on from the table's `before` and adds their runs (a
   * write per run, none per line), unless there are too many runs to keep.
   */
  private index(s: Section, before: number): number {
    const { text, runs, latest } = this;
    const to = s.to;
    let count = before;
    let indexed = this.indexed;
    let key = -1;
    let n = runs.length;
    for (let at = text.indexOf('\n-A ', s.from); at >= 0 && at < to; at = text.indexOf('\n-A ', at + 4)) {
      count++;
      if (!indexed) continue;
      const k = text.charCodeAt(at + 4 + keyAt) & (keys - 1);
      if (k === key) continue;
      if (n >= 3 * manyRuns && 2 * n > 3 * count) indexed = false;
      if (key >= 0) runs[n - 2] = at;
      runs.push(at, to, latest[k] as number);
      latest[k] = n;
      n += 3;
      key = k;
    }
    this.indexed = indexed;
    return count;
  }

  /** Where the chain's lines may be, in order: its key's runs, or the whole table. */
  private piecesOf(chain: string): (readonly [number, number])[] {
    if (!this.indexed || chain.length <= keyAt || chain.includes('\n')) return this.sections.map(bounds);
    const { runs } = this;
    const pieces: [number, number][] = [];
    for (
      let r = this.latest[chain.charCodeAt(keyAt) & (keys - 1)] as number;
      r >= 0;
      r = runs[r + 2] as number
    ) {
      pieces.push([runs[r] as number, runs[r + 1] as number]);
    }
    return pieces.reverse();
  }

  /**
   * Lines that start with `prefix` (after its `\n`) and then end or go on after a space,
   * looked for in the pieces only, each from its `\n` to its end (a line may run over it
   * only if `prefix` holds a `\n`).
   */
  private search(prefix: string, pieces: readonly (readonly [number, number])[], most: number): string[] {
    const out: string[] = [];
    const { text } = this;
    for (const [from, to] of pieces) {
      const piece = text.slice(from, Math.min(text.length, to + prefix.length + 1));
      for (let at = piece.indexOf(prefix); at >= 0 && at < to - from; at = piece.indexOf(prefix, at + 1)) {
        const after = from + at + prefix.length;
        if (after < text.length && text[after] !== ' ' && text[after] !== '\n') continue;
        let end = text.indexOf('\n', after);
        if (end < 0) end = text.length;
        out.push(text.slice(from + at + 1, end));
        if (out.length >= most) return out;
      }
    }
    return out;
  }
}

const bounds = (s: Section) => [s.from, s.to] as const;
