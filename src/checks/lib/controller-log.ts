/**
 * Error lines of an ingress or load-balancer controller's log: klog text (ingress-nginx:
 * `E1122 09:41:07.512334 7 main.go:64] …`) or zap JSON (the AWS Load Balancer Controller:
 * `{"level":"error","ts":"2026-11-22T09:40:00Z","msg":"Reconciler error",…}`; `ts` may
 * also be epoch seconds, zap's default encoder).
 */
import { parseKlogLine } from '../../cluster/parse/klog.js';

export interface ErrorLine {
  readonly time: Date;
  readonly text: string;
}

const jsonErrorLevels = new Set(['error', 'dpanic', 'panic', 'fatal']);

export function errorLines(lines: readonly string[], observedAt: Date): ErrorLine[] {
  const out: ErrorLine[] = [];
  for (const raw of lines) {
    if (raw.startsWith('{')) {
      const line = jsonError(raw);
      if (line) out.push(line);
      continue;
    }
    const k = parseKlogLine(raw, observedAt);
    if (k && (k.severity === 'E' || k.severity === 'F')) out.push({ time: k.time, text: raw.trim() });
  }
  return out;
}

function jsonError(raw: string): ErrorLine | undefined {
  let doc: { level?: unknown; ts?: unknown; msg?: unknown };
  try {
    doc = JSON.parse(raw) as typeof doc;
  } catch {
    return undefined;
  }
  if (typeof doc.level !== 'string' || !jsonErrorLevels.has(doc.level)) return undefined;
  const time =
    typeof doc.ts === 'number'
      ? new Date(doc.ts < 1e11 ? doc.ts * 1000 : doc.ts)
      : typeof doc.ts === 'string'
        ? new Date(doc.ts)
        : undefined;
  if (!time || Number.isNaN(time.getTime())) return undefined;
  return { time, text: raw.trim().slice(0, 400) };
}
