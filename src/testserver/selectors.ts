/** Kubernetes label and field selector strings, as the API server evaluates them. */

type Term =
  | { op: '=' | '!='; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | '!exists'; key: string };

/** Splits on commas outside parentheses (`k in (a,b),x=y`). */
function splitTerms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

export function parseSelector(selector: string | null | undefined): Term[] {
  if (!selector) return [];
  return splitTerms(selector).map((term): Term => {
    const set = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(term);
    if (set)
      return {
        op: set[2] as 'in' | 'notin',
        key: set[1] as string,
        values: (set[3] as string).split(',').map((v) => v.trim()),
      };
    const neq = /^([^!=]+)!=(.*)$/.exec(term);
    if (neq) return { op: '!=', key: (neq[1] as string).trim(), value: (neq[2] as string).trim() };
    const eq = /^([^!=]+)==?(.*)$/.exec(term);
    if (eq) return { op: '=', key: (eq[1] as string).trim(), value: (eq[2] as string).trim() };
    if (term.startsWith('!')) return { op: '!exists', key: term.slice(1).trim() };
    return { op: 'exists', key: term };
  });
}

function matchesTerm(t: Term, v: string | undefined): boolean {
  switch (t.op) {
    case '=':
      return v === t.value;
    case '!=':
      return v !== t.value;
    case 'in':
      return v !== undefined && t.values.includes(v);
    case 'notin':
      return v === undefined || !t.values.includes(v);
    case 'exists':
      return v !== undefined;
    default:
      return v === undefined;
  }
}

function matches(terms: Term[], lookup: (key: string) => string | undefined): boolean {
  return terms.every((t) => matchesTerm(t, lookup(t.key)));
}

/**
 * A list's `labelSelector` and `fieldSelector` as one predicate, each parsed once per list
 * (not once per item: a 5,000-node cluster's kube-system holds 10,000 pods).
 */
export function selectorPredicate(query: URLSearchParams): (item: Record<string, unknown>) => boolean {
  const labels = parseSelector(query.get('labelSelector'));
  const fields = parseSelector(query.get('fieldSelector'));
  return (item) => matchesLabelTerms(item, labels) && matchesFieldTerms(item, fields);
}

function matchesLabelTerms(item: Record<string, unknown>, terms: Term[]): boolean {
  if (terms.length === 0) return true;
  const labels = ((item.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {}) as Record<
    string,
    string
  >;
  return matches(terms, (k) => labels[k]);
}

function matchesFieldTerms(item: Record<string, unknown>, terms: Term[]): boolean {
  if (terms.length === 0) return true;
  return matches(terms, (path) => {
    let value: unknown = item;
    for (const part of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
    return value === undefined || value === null
      ? path === 'spec.nodeName'
        ? ''
        : undefined
      : String(value);
  });
}
