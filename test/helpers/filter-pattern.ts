/**
 * The part of CloudWatch Logs' JSON filter-pattern syntax kproxy uses ("Using filter
 * patterns to match terms in JSON log events", CloudWatch Logs User Guide):
 * `{ <expr> }` with `&&`, `||`, parentheses, and `$.a.b = "value"` / `!=`, where a
 * trailing `*` in the value is a wildcard. A non-JSON event never matches a JSON pattern.
 * Anything else is refused, so a test cannot pass on a pattern the fake did not evaluate.
 */
type Node = { op: 'and' | 'or'; left: Node; right: Node } | { op: '=' | '!='; path: string[]; value: string };

export function compileFilterPattern(pattern: string): (message: string) => boolean {
  const src = pattern.trim();
  if (!src.startsWith('{') || !src.endsWith('}'))
    throw new Error('only JSON filter patterns ({ … }) are supported');
  const tokens =
    src.slice(1, -1).match(/\$(?:\.[A-Za-z0-9_-]+)+|"(?:[^"\\]|\\.)*"|&&|\|\||!=|=|\(|\)|\S+/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => {
    const t = tokens[i++];
    if (t === undefined) throw new Error('unexpected end of filter pattern');
    return t;
  };
  const primary = (): Node => {
    if (peek() === '(') {
      next();
      const inner = expr();
      if (next() !== ')') throw new Error('expected )');
      return inner;
    }
    const sel = next();
    if (!sel.startsWith('$.')) throw new Error(`expected a $. selector, found ${sel}`);
    const op = next();
    if (op !== '=' && op !== '!=') throw new Error(`unsupported operator ${op}`);
    const raw = next();
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    return { op, path: sel.slice(2).split('.'), value };
  };
  const and = (): Node => {
    let left = primary();
    while (peek() === '&&') {
      next();
      left = { op: 'and', left, right: primary() };
    }
    return left;
  };
  const expr = (): Node => {
    let left = and();
    while (peek() === '||') {
      next();
      left = { op: 'or', left, right: and() };
    }
    return left;
  };
  const tree = expr();
  if (i !== tokens.length) throw new Error(`unexpected ${tokens[i]}`);
  return (message) => {
    let doc: unknown;
    try {
      doc = JSON.parse(message);
    } catch {
      return false;
    }
    return evaluate(tree, doc);
  };
}

function evaluate(n: Node, doc: unknown): boolean {
  if (!('path' in n))
    return n.op === 'and'
      ? evaluate(n.left, doc) && evaluate(n.right, doc)
      : evaluate(n.left, doc) || evaluate(n.right, doc);
  let v: unknown = doc;
  for (const key of n.path)
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  if (v === undefined || v === null || typeof v === 'object') return false;
  const text = String(v);
  const hit = n.value.endsWith('*') ? text.startsWith(n.value.slice(0, -1)) : text === n.value;
  return n.op === '=' ? hit : !hit;
}
