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
