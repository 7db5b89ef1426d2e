/**
 * The items of a `kubectl get -o json` list document: each checked for its kind and name,
 * those a diagnosis reads validated by a zod schema; anything else is refused with the
 * file named (`nodes.json: items[3] is not a valid Node: status.conditions: …`).
 */
import type { z } from 'zod';
import { inWords, pathInWords } from '../../config/problems.js';
import { BundleError } from '../../errors.js';

/**
 * The items of a list document, each checked for its kind and name only (BundleFiles.readItems).
 * Anything but a `<Kind>List` or a `v1/List` of `kind` is refused with the file named.
 */
export function listItems(rel: string, kind: string, doc: unknown): readonly Record<string, unknown>[] {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new BundleError(rel, `expected a ${kind}List object, found ${describeJson(doc)}`);
  }
  const record = doc as Record<string, unknown>;
  const listKind = record.kind;
  if (listKind !== `${kind}List` && listKind !== 'List') {
    throw new BundleError(
      rel,
      `expected kind ${kind}List (or List of ${kind}), found ${JSON.stringify(listKind)}`,
    );
  }
  const items = record.items ?? [];
  if (!Array.isArray(items)) throw new BundleError(rel, '"items" is not an array');
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new BundleError(
        rel,
        `items[${i}] is not a valid ${kind}: expected an object, found ${describeJson(item)}`,
      );
    const itemKind = (item as { kind?: unknown }).kind;
    if (itemKind !== undefined && itemKind !== kind) {
      throw new BundleError(rel, `items[${i}] is a ${String(itemKind)}, expected ${kind}`);
    }
    // Items are selected by name before validation: a nameless one is malformed wherever it is.
    const name = ((item as { metadata?: unknown }).metadata as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string')
      throw new BundleError(
        rel,
        `items[${i}] is not a valid ${kind}: metadata.name: ${name === undefined ? 'is required (a string)' : `expected a string, found ${describeJson(name)}`}`,
      );
  }
  return items as Record<string, unknown>[];
}

/** The items `keep` selects, each validated by the schema; an invalid one is refused with the file named. */
export function validateItems<S extends z.ZodType>(
  rel: string,
  kind: string,
  schema: S,
  items: readonly Record<string, unknown>[],
  keep: (item: Record<string, unknown>) => boolean = () => true,
): z.infer<S>[] {
  const chosen: number[] = [];
  for (let i = 0; i < items.length; i++) if (keep(items[i] as Record<string, unknown>)) chosen.push(i);
  const few = chosen.length < jitThreshold;
  return chosen.map((i) => validateItem(rel, kind, schema, items[i], i, few));
}

/**
 * Below this many items zod's compiled fast path costs more to build (it generates code
 * for each object schema on first use) than it saves: a Service-scoped diagnosis of a
 * 5,000-node bundle validates a few dozen objects.
 */
export const jitThreshold = 200;

/** One item of a list file (`items[index]`), validated; refused with the file named. */
export function validateItem<S extends z.ZodType>(
  rel: string,
  kind: string,
  schema: S,
  item: unknown,
  index: number,
  jitless = false,
): z.infer<S> {
  const parsed = schema.safeParse(item, { error: inWords, jitless });
  if (!parsed.success)
    throw new BundleError(rel, `items[${index}] is not a valid ${kind}: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

/** The `metadata.name` of every item (readItems made sure each has one). */
export function itemNames(items: readonly Record<string, unknown>[]): string[] {
  return items.map((item) => (item.metadata as { name: string }).name);
}

export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return `${pathInWords(issue.path)}: ${issue.message}${more}`;
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return `a ${typeof value}`;
}
