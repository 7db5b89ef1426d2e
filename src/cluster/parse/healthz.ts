/**
 * kube-proxy's :10256/healthz body. The HTTP status is not in a bundle, but the body
 * tells it. Two forms:
 * - before the health server marshalled a struct, times in Go's `String()` form and no
 *   `healthy` field: a healthy server overwrites lastUpdated with currentTime, so the two
 *   differ exactly when it answered 503 (or nodeEligible is false);
 * - v1.34 (pkg/proxy/healthcheck/proxy_health.go `healthzHandler.ServeHTTP`): RFC 3339
 *   times and `"healthy"`; a healthy server sets lastUpdated to the clock after reading
 *   currentTime (so it is a little later), and it answers 503 when `healthy` is false or
 *   nodeEligible is false.
 */
import { parseGoTime, parseJsonTime } from './go-time.js';

const timeOf = (v: unknown) => (typeof v === 'string' ? (parseGoTime(v) ?? parseJsonTime(v)) : undefined);

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
  const lastUpdated = timeOf(record.lastUpdated);
  const currentTime = timeOf(record.currentTime);
  if (!lastUpdated || !currentTime) return { error: 'healthz body lacks lastUpdated/currentTime' };
  const nodeEligible = typeof record.nodeEligible === 'boolean' ? record.nodeEligible : undefined;
  const staleSeconds = Math.max(0, (currentTime.getTime() - lastUpdated.getTime()) / 1000);
  return {
    lastUpdated,
    currentTime,
    nodeEligible,
    healthy:
      (typeof record.healthy === 'boolean' ? record.healthy : staleSeconds === 0) && nodeEligible !== false,
    staleSeconds,
  };
}
