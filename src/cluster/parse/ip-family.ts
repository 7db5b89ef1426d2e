/** IP address families as Kubernetes names them, and the `ip:port` form each tool prints. */
export type IpFamily = 'IPv4' | 'IPv6';

export function familyOf(ip: string): IpFamily {
  return ip.includes(':') ? 'IPv6' : 'IPv4';
}

/**
 * One spelling per address, so an EndpointSlice's `fd00:10:180:0::1` matches the
 * `fd00:10:180::1` iptables-save and nft print (the WHATWG URL parser compresses IPv6
 * as RFC 5952 says). IPv4 and unparseable text are returned unchanged.
 */
export function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip.replace(/^\[|\]$/g, '')}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
}

/** `10.0.0.1:80`, `[fd00::1]:80`: how iptables-save, nft and ipvsadm print a backend. */
export function hostPort(ip: string, port: number | string): string {
  const canonical = canonicalIp(ip);
  return familyOf(canonical) === 'IPv6' ? `[${canonical}]:${port}` : `${canonical}:${port}`;
}

/** A printed backend (`[fd00:0::1]:80`) in the canonical form of `hostPort`. */
export function canonicalHostPort(text: string): string {
  const m = /^\[?([0-9a-fA-F:.]+?)\]?:(\d+)$/.exec(text);
  return m ? hostPort(m[1] as string, m[2] as string) : text;
}
