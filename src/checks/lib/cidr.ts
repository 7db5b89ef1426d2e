/** IPv4 CIDR arithmetic for security-group, NACL and route evaluation. */

export interface Range {
  readonly first: number;
  readonly last: number;
}

function ipToNumber(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

/** `10.0.0.0/16` (or a bare address, a /32) as a numeric range; undefined for IPv6 or junk. */
export function parseCidr(cidr: string): Range | undefined {
  const [ip, bitsText] = cidr.split('/');
  const base = ipToNumber(ip ?? '');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  const first = Math.floor(base / size) * size;
  return { first, last: first + size - 1 };
}

export function cidrContains(outer: string, inner: string): boolean {
  const a = parseCidr(outer);
  const b = parseCidr(inner);
  return !!a && !!b && a.first <= b.first && b.last <= a.last;
}

export function cidrOverlaps(x: string, y: string): boolean {
  const a = parseCidr(x);
  const b = parseCidr(y);
  return !!a && !!b && a.first <= b.last && b.first <= a.last;
}

/** The prefix length, for longest-prefix route matching. */
export function prefixLength(cidr: string): number {
  return Number(cidr.split('/')[1] ?? 32);
}
