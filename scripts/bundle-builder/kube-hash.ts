/**
 * kube-proxy's chain names: base32(sha256(servicePortName + protocol [+ endpoint]))[:16]
 * (k/k pkg/proxy/iptables/proxier.go `portProtoHash` / `servicePortEndpointChainName`).
 */
import { createHash } from 'node:crypto';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

function hash16(text: string): string {
  return base32(createHash('sha256').update(text).digest()).slice(0, 16);
}

/** `KUBE-SVC-…` suffix for `ns/name:port` + lower-case protocol. */
export function servicePortHash(servicePortName: string, protocol: string): string {
  return hash16(servicePortName + protocol.toLowerCase());
}

/** `KUBE-SEP-…` suffix for one endpoint (`ip:port`) of a service port. */
export function endpointHash(servicePortName: string, protocol: string, endpoint: string): string {
  return hash16(servicePortName + protocol.toLowerCase() + endpoint);
}

/** The probability kube-proxy writes (`%0.10f`) as iptables-save prints it back (kernel u32/2^31, `%.11f`). */
export function savedProbability(n: number, i: number): string {
  const p = 1 / (n - i);
  const stored = Math.round(p * 2 ** 31) / 2 ** 31;
  return stored.toFixed(11);
}
