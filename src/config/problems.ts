/**
 * Validation problems a person can act on: zod's issues said in words ("is required",
 * "must be a list, not a string", "unknown key "bogus"") instead of its raw messages
 * ("Invalid input: expected array, received undefined"), each with its key path and, for a
 * YAML file, the line and column where it is (or where the missing key belongs).
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';

type Path = readonly PropertyKey[];

const typeWords: Record<string, string> = {
  array: 'a list',
  object: 'a mapping of keys',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  literal: 'a fixed value',
};

function describeValue(value: unknown): string {
  if (value === null) return 'empty (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return `${typeof value} ${String(value)}`;
}

/** The per-parse error map: schema-level messages (regex hints) still win over these. */
export const inWords = (issue: z.core.$ZodRawIssue): string | undefined => {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = typeWords[issue.expected] ?? issue.expected;
      return issue.input === undefined
        ? `is required (${expected})`
        : `must be ${expected}, not ${describeValue(issue.input)}`;
    }
    case 'too_small':
      if (issue.origin === 'array') return `must list at least ${issue.minimum} item(s)`;
      if (issue.origin === 'string')
        return Number(issue.minimum) <= 1
          ? 'must not be empty'
          : `must be at least ${issue.minimum} characters`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `must list at most ${issue.maximum} item(s)`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return `must be a valid ${issue.format === 'url' ? 'URL' : issue.format}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    default:
      return undefined;
  }
};

/** `clusters[0].channels[1]`: list positions as indexes, keys joined with dots. */
export function pathInWords(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out || '(top level)';
}

export interface Problem {
  /** Absent for a problem of the file as a whole (YAML syntax). */
  readonly path?: Path;
  readonly message: string;
  /** 1-based, when the source is a YAML file. */
  readonly line?: number;
  readonly column?: number;
}

export function formatProblem(p: Problem): string {
  const where = p.line !== undefined ? `line ${p.line}, column ${p.column}: ` : '';
  return `${where}${p.path ? `${pathInWords(p.path)}: ` : ''}${p.message}`;
}

/** zod issues as problems; an unknown-keys issue becomes one problem per key, at that key. */
export function problemsOf(error: z.ZodError): Problem[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: [...issue.path, key], message: 'unknown key' }))
      : [{ path: issue.path, message: issue.message }],
  );
}

/** A parsed YAML file that can tell where a key path is. */
export class YamlSource {
  readonly value: unknown;
  readonly syntaxProblems: Problem[];
  private readonly lines = new LineCounter();
  private readonly root: unknown;

  constructor(text: string) {
    let root: unknown;
    let value: unknown;
    let problems: Problem[];
    try {
      const doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false });
      root = doc.contents;
      problems = doc.errors.map((e) => {
        const pos = this.lines.linePos(e.pos[0]);
        return { message: `not valid YAML: ${e.message.split('\n')[0]}`, line: pos.line, column: pos.col };
      });
      value = problems.length > 0 ? undefined : doc.toJS();
    } catch (error) {
      // Not text at all, or a parser limit (alias expansion): one problem, never an exception.
      problems = [
        { message: `not valid YAML: ${String((error as Error)?.message ?? error).split('\n')[0]}` },
      ];
    }
    this.root = root;
    this.value = value;
    this.syntaxProblems = problems;
  }

  /** The problem with the line and column of its key (or of the closest enclosing one). */
  locate(problem: Problem): Problem {
    let node = this.root as Node | null | undefined;
    let at: Node | null | undefined = node;
    for (const segment of problem.path ?? []) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) break;
        at = (pair.key as Node) ?? at;
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment] as Node | undefined;
        if (!node) break;
        at = node;
      } else break;
    }
    const offset = at?.range?.[0];
    if (offset === undefined) return problem;
    const pos = this.lines.linePos(offset);
    return { ...problem, line: pos.line, column: pos.col };
  }
}
