/**
 * Go's `time.Time.String()` form, as kube-proxy's healthz prints it:
 * `2025-03-14 09:58:01.482913270 +0000 UTC m=+86412.917263091`.
 */
const goTime = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? ([+-])(\d{2})(\d{2})/;

export function parseGoTime(text: string): Date | undefined {
  const m = goTime.exec(text.trim());
  if (!m) return undefined;
  const [, day, clock, frac = '', sign, hh, mm] = m;
  const millis = frac ? `.${frac.slice(1, 4).padEnd(3, '0')}` : '';
  const date = new Date(`${day}T${clock}${millis}${sign}${hh}:${mm}`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Go's encoding/json form of a `time.Time` (RFC 3339 with nanoseconds), as kube-proxy's
 * healthz prints it since it marshals a struct (pkg/proxy/healthcheck/proxy_health.go
 * `ProxyHealth`, v1.34): `2026-11-30T05:16:47.485599412Z`.
 */
const jsonTime = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function parseJsonTime(text: string): Date | undefined {
  const m = jsonTime.exec(text.trim());
  if (!m) return undefined;
  const [, day, clock, frac = '', zone] = m;
  const millis = frac ? `.${frac.slice(1, 4).padEnd(3, '0')}` : '';
  const date = new Date(`${day}T${clock}${millis}${zone}`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
