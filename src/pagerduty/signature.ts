/**
 * PagerDuty v3 webhook signatures: `X-PagerDuty-Signature` holds one or more `v1=<hex>`
 * (HMAC-SHA256 of the raw body), comma-separated during secret rotation. Valid when any
 * of them matches any configured secret, compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function verifyPagerDutySignature(
  rawBody: Buffer,
  header: string | undefined,
  secrets: readonly string[],
): boolean {
  if (!header || secrets.length === 0) return false;
  const given = header
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1=') && /^[0-9a-f]+$/i.test(s.slice(3)))
    .map((s) => Buffer.from(s.slice(3), 'hex'));
  return secrets.some((secret) => {
    const want = createHmac('sha256', secret).update(rawBody).digest();
    return given.some((got) => got.length === want.length && timingSafeEqual(got, want));
  });
}

export function signPagerDuty(rawBody: string | Buffer, secret: string): string {
  return `v1=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
