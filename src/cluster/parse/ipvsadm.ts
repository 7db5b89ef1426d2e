/** `ipvsadm -Ln` output. */
export interface IpvsRealServer {
  readonly address: string;
  readonly forward: string;
  readonly weight: number;
  readonly raw: string;
}

export interface IpvsVirtualServer {
  readonly protocol: string;
  /** `10.96.0.10:53` */
  readonly address: string;
  readonly scheduler: string;
  readonly realServers: IpvsRealServer[];
  readonly raw: string;
}

export interface IpvsTable {
  readonly virtualServers: readonly IpvsVirtualServer[];
  /** ipvsadm's own complaint when the kernel has no IPVS (`Can't initialize ipvs…`). */
  readonly error: string | undefined;
}

export function parseIpvsadm(text: string): IpvsTable {
  const servers: IpvsVirtualServer[] = [];
  let error: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (/can't initialize ipvs|Protocol not available|IP Virtual Server is built/i.test(line)) {
      error ??= line;
      continue;
    }
    const vs = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\S+)/.exec(line);
    if (vs) {
      servers.push({
        protocol: vs[1] as string,
        address: vs[2] as string,
        scheduler: vs[3] as string,
        realServers: [],
        raw: line,
      });
      continue;
    }
    const rs = /^->\s+(\S+)\s+(\S+)\s+(\d+)/.exec(line);
    const last = servers.at(-1);
    if (rs && last && rs[1] !== 'RemoteAddress:Port') {
      last.realServers.push({
        address: rs[1] as string,
        forward: rs[2] as string,
        weight: Number(rs[3]),
        raw: line,
      });
    }
  }
  return { virtualServers: servers, error };
}
