/** Documents the live source writes into its in-memory bundle, as `kubectl get -o json` prints them. */
import { JsonDocument } from '../bundle/memory.js';
import type { ApiCall } from './kube-http.js';

export function call(verb: string, resource: string, namespace?: string): ApiCall {
  return { verb, resource, ...(namespace ? { namespace } : {}) };
}

/** Items of an API list lack kind/apiVersion; kubectl adds them, and so does kproxy. */
export function withKind(item: unknown, kind: string, apiVersion: string): unknown {
  return { apiVersion, kind, ...(item as Record<string, unknown>) };
}

/** A v1 List of the items, held parsed (see JsonDocument). */
export function listDoc(items: unknown[]): JsonDocument {
  return new JsonDocument({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } });
}

/** The items of a list document the bundle already holds (to merge more in), or []. */
export function itemsOf(content: string | JsonDocument | undefined): Record<string, unknown>[] {
  if (!content) return [];
  const doc = (typeof content === 'string' ? JSON.parse(content) : content.value) as {
    items?: Record<string, unknown>[];
  };
  return doc.items ?? [];
}
