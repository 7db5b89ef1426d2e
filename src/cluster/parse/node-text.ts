/** Small node captures: conntrack -S, sysctl, lsmod, ip -o link, dmesg. */

export interface ConntrackStats {
  readonly cpus: number;
  /** Counters summed over CPUs (found, invalid, insert_failed, drop, early_drop, …). */
  readonly totals: Readonly<Record<string, number>>;
}

export function parseConntrackStats(text: string): ConntrackStats {
  const totals: Record<string, number> = {};
  let cpus = 0;
  for (const line of text.split('\n')) {
    if (!/^\s*cpu=\d+/.test(line)) continue;
    cpus++;
    for (const m of line.matchAll(/(\w+)=(\d+)/g)) {
      const key = m[1] as string;
      if (key === 'cpu') continue;
      totals[key] = (totals[key] ?? 0) + Number(m[2]);
    }
  }
  return { cpus, totals };
}

/** `key = value` lines (sysctl's own output). */
export function parseSysctl(text: string): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([\w.-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out.set(m[1] as string, m[2] as string);
  }
  return out;
}

/** Module names loaded, from `lsmod` (first column, header skipped). */
export function parseLsmod(text: string): ReadonlySet<string> {
  const out = new Set<string>();
  for (const line of text.split('\n').slice(1)) {
    const name = line.trim().split(/\s+/)[0];
    if (name) out.add(name);
  }
  return out;
}

export interface LinkInfo {
  readonly name: string;
  readonly raw: string;
}

/** `ip -o link`: `7: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 … link/ether …`. */
export function parseIpLink(text: string): readonly LinkInfo[] {
  const out: LinkInfo[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)(?:@\S+)?:/.exec(line.trim());
    if (m) out.push({ name: m[1] as string, raw: line.trim() });
  }
  return out;
}
