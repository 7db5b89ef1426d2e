/** kube-proxy 1.30 logs at --v=2 (the EKS default), in klog's text format. */
import type { LogEvent } from './model.js';

function header(severity: string, at: Date, source: string): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const micros =
    p(at.getUTCMilliseconds(), 3) + p((at.getUTCSeconds() * 7919 + at.getUTCMinutes() * 31) % 1000, 3);
  return `${severity}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())} ${p(at.getUTCHours())}:${p(at.getUTCMinutes())}:${p(at.getUTCSeconds())}.${micros}       1 ${source}]`;
}

export function klogLine(e: LogEvent): string {
  return `${header(e.severity, new Date(e.at), e.source)} ${e.message}`;
}

export function at(base: string, offsetSeconds: number): string {
  return new Date(Date.parse(base) + offsetSeconds * 1000).toISOString();
}

export interface StartupOptions {
  startedAt: string;
  nodeIp: string;
  version: string;
  mode: 'iptables' | 'ipvs' | 'nftables';
  numServices: number;
  numEndpoints: number;
}

export function startupEvents(o: StartupOptions): LogEvent[] {
  const s = (sec: number) => at(o.startedAt, sec);
  const mode = o.mode;
  const proxier = mode === 'ipvs' ? 'ipvs' : mode === 'nftables' ? 'nftables' : 'iptables';
  const events: LogEvent[] = [
    { at: s(0), severity: 'I', source: 'server.go:872', message: `"Version info" version="${o.version}"` },
    {
      at: s(0.001),
      severity: 'I',
      source: 'server.go:874',
      message: '"Golang settings" GOGC="" GOMAXPROCS="" GOTRACEBACK=""',
    },
    { at: s(0.012), severity: 'I', source: 'server_linux.go:69', message: `"Using ${proxier} proxy"` },
    {
      at: s(0.031),
      severity: 'I',
      source: 'server.go:1062',
      message: `"Successfully retrieved node IP(s)" IPs=["${o.nodeIp}"]`,
    },
    {
      at: s(0.033),
      severity: 'I',
      source: 'conntrack.go:60',
      message: '"Setting nf_conntrack_max" nfConntrackMax=262144',
    },
    {
      at: s(0.071),
      severity: 'I',
      source: 'server.go:659',
      message: '"kube-proxy running in single-stack mode" ipFamily="IPv4"',
    },
    { at: s(0.078), severity: 'I', source: 'server_linux.go:165', message: `"Using ${proxier} Proxier"` },
  ];
  if (mode === 'iptables') {
    events.push(
      {
        at: s(0.081),
        severity: 'I',
        source: 'proxier.go:243',
        message:
          '"Setting route_localnet=1 to allow node-ports on localhost; to change this either disable iptables.localhostNodePorts (--iptables-localhost-nodeports) or set nodePortAddresses (--nodeport-addresses) to filter loopback addresses"',
      },
      {
        at: s(0.082),
        severity: 'I',
        source: 'proxier.go:265',
        message: '"Using iptables mark for masquerade" ipFamily="IPv4" mark="0x00004000"',
      },
      {
        at: s(0.083),
        severity: 'I',
        source: 'proxier.go:292',
        message: '"Iptables sync params" ipFamily="IPv4" minSyncPeriod="1s" syncPeriod="30s" burstSyncs=2',
      },
      {
        at: s(0.085),
        severity: 'I',
        source: 'proxier.go:302',
        message: '"Iptables supports --random-fully" ipFamily="IPv4"',
      },
    );
  }
  events.push(
    {
      at: s(0.09),
      severity: 'I',
      source: 'server.go:1035',
      message:
        '"Kube-proxy configuration may be incomplete or incorrect" err="nodePortAddresses is unset; NodePort connections will be accepted on all local IPs. Consider using `--nodeport-addresses primary`"',
    },
    { at: s(0.1), severity: 'I', source: 'config.go:192', message: '"Starting service config controller"' },
    {
      at: s(0.1),
      severity: 'I',
      source: 'shared_informer.go:313',
      message: 'Waiting for caches to sync for service config',
    },
    {
      at: s(0.101),
      severity: 'I',
      source: 'config.go:101',
      message: '"Starting endpoint slice config controller"',
    },
    {
      at: s(0.101),
      severity: 'I',
      source: 'shared_informer.go:313',
      message: 'Waiting for caches to sync for endpoint slice config',
    },
    { at: s(0.102), severity: 'I', source: 'config.go:323', message: '"Starting node config controller"' },
    {
      at: s(0.102),
      severity: 'I',
      source: 'shared_informer.go:313',
      message: 'Waiting for caches to sync for node config',
    },
    {
      at: s(0.2),
      severity: 'I',
      source: 'shared_informer.go:320',
      message: 'Caches are synced for node config',
    },
    {
      at: s(0.201),
      severity: 'I',
      source: 'shared_informer.go:320',
      message: 'Caches are synced for service config',
    },
    {
      at: s(0.201),
      severity: 'I',
      source: 'shared_informer.go:320',
      message: 'Caches are synced for endpoint slice config',
    },
    ...syncEvents(s(0.202), mode, o.numServices, o.numEndpoints, 0.412),
  );
  return events;
}

export function syncEvents(
  when: string,
  mode: 'iptables' | 'ipvs' | 'nftables',
  numServices: number,
  numEndpoints: number,
  seconds: number,
): LogEvent[] {
  if (mode === 'ipvs') {
    return [
      {
        at: when,
        severity: 'I',
        source: 'proxier.go:1030',
        message: `"syncProxyRules complete" elapsed="${(seconds * 1000).toFixed(6)}ms"`,
      },
    ];
  }
  const table = mode === 'nftables' ? 'nftables' : 'iptables';
  return [
    { at: when, severity: 'I', source: 'proxier.go:805', message: `"Syncing ${table} rules"` },
    {
      at: at(when, seconds * 0.6),
      severity: 'I',
      source: 'proxier.go:1494',
      message: `"Reloading service ${table} data" numServices=${numServices} numEndpoints=${numEndpoints} numFilterChains=6 numFilterRules=4 numNATChains=${6 + numServices * 2 + numEndpoints} numNATRules=${10 + numServices * 2 + numEndpoints * 3}`,
    },
    {
      at: at(when, seconds),
      severity: 'I',
      source: 'proxier.go:799',
      message: `"SyncProxyRules complete" elapsed="${(seconds * 1000).toFixed(6)}ms"`,
    },
  ];
}

/** Periodic syncs every `everySeconds` from `from` until `until`. */
export function periodicSyncs(
  from: string,
  until: string,
  everySeconds: number,
  mode: 'iptables' | 'ipvs' | 'nftables',
  numServices: number,
  numEndpoints: number,
): LogEvent[] {
  const out: LogEvent[] = [];
  for (let t = Date.parse(from); t < Date.parse(until); t += everySeconds * 1000) {
    out.push(
      ...syncEvents(
        new Date(t).toISOString(),
        mode,
        numServices,
        numEndpoints,
        0.058 + ((t / 1000) % 13) / 1000,
      ),
    );
  }
  return out;
}

export function renderLog(events: LogEvent[]): string {
  return `${[...events]
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
    .map(klogLine)
    .join('\n')}\n`;
}
