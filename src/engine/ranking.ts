/** From suspects to a ranked list of root causes: one entry per category, best first. */
import { type FaultCategory, rootCauseCategories } from '../checks/types.js';
import type { RankedCause } from './diagnosis.js';
import type { AdjustedSuspect } from './guardrails.js';

export function rankCauses(suspects: readonly AdjustedSuspect[], order: readonly string[]): RankedCause[] {
  const best = new Map<FaultCategory, { suspect: AdjustedSuspect; nodes: Set<string> }>();
  for (const s of suspects) {
    const current = best.get(s.category);
    if (!current) best.set(s.category, { suspect: s, nodes: new Set(s.nodes) });
    else {
      for (const n of s.nodes) current.nodes.add(n);
      if (s.score > current.suspect.score) current.suspect = s;
    }
  }
  const position = (s: AdjustedSuspect) => {
    const i = order.indexOf(s.check);
    return i >= 0 ? i : order.length + rootCauseCategories.indexOf(s.category);
  };
  return [...best.values()]
    .sort((a, b) => b.suspect.score - a.suspect.score || position(a.suspect) - position(b.suspect))
    .map(({ suspect, nodes }) => ({
      category: suspect.category,
      score: Math.round(suspect.score * 100) / 100,
      detail: suspect.notes.length > 0 ? `${suspect.detail} (${suspect.notes.join('; ')})` : suspect.detail,
      nodes: [...nodes].sort(),
    }));
}
