/** Documents the live source writes into its in-memory bundle, as `kubectl get -o json` prints them. */
import type { ApiCall } from './kube-http.js';

export function call(verb: string, resource: string, namespace?: string): ApiCall {
  return { verb, resource, ...(namespace ? { namespace } : {}) };
}

/** Items of an API list lack kind/apiVersion; kubectl adds them, and so does kproxy. */
export function withKind(item: unknown, kind: string, apiVersion: string): unknown {
  return { apiVersion, kind, ...(item as Record<string, unknown>) };
}

export function listDoc(items: unknown[]): string {
  return JSON.stringify(
    { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } },
    null,
    4,
  );
}

/** The items of a list document the bundle already holds (to merge more in), or []. */
export function itemsOf(content: string | undefined): Record<string, unknown>[] {
  if (!content) return [];
  const doc = JSON.parse(content) as { items?: Record<string, unknown>[] };
  return doc.items ?? [];
}
