/**
 * kube-proxy's :10256/healthz body. The HTTP status is not in a bundle, but the body
 * tells it: a healthy server overwrites lastUpdated with currentTime, so the two differ
 * exactly when it answered 503 (or nodeEligible is false).
 */
import { parseGoTime } from './go-time.js';

export interface Healthz {
  readonly lastUpdated: Date;
  readonly currentTime: Date;
  readonly nodeEligible: boolean | undefined;
  readonly healthy: boolean;
  /** Seconds since the last successful sync, as the server saw it. */
  readonly staleSeconds: number;
}

export function parseHealthz(body: string): Healthz | { error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return { error: 'healthz body is not JSON' };
  }
  const record = (doc ?? {}) as Record<string, unknown>;
  const lastUpdated = typeof record.lastUpdated === 'string' ? parseGoTime(record.lastUpdated) : undefined;
  const currentTime = typeof record.currentTime === 'string' ? parseGoTime(record.currentTime) : undefined;
  if (!lastUpdated || !currentTime) return { error: 'healthz body lacks lastUpdated/currentTime' };
  const nodeEligible = typeof record.nodeEligible === 'boolean' ? record.nodeEligible : undefined;
  const staleSeconds = Math.max(0, (currentTime.getTime() - lastUpdated.getTime()) / 1000);
  return {
    lastUpdated,
    currentTime,
    nodeEligible,
    healthy: staleSeconds === 0 && nodeEligible !== false,
    staleSeconds,
  };
}
