/**
 * What the probe pod runs: one fixed POSIX shell script (the same bytes every time, so
 * the test API server can recognise it) with the paths to try as arguments
 * (`dns=web-api.app.svc`, `vip=10.100.12.7:80`, `endpoint=10.0.3.41:8080`, …). Every
 * attempt is bounded: dig `+time=2 +tries=2`, curl `--connect-timeout 3 --max-time 5`;
 * at most 1 + 1 + maxEndpoints + 1 + 1 attempts, so the whole run stays under a minute.
 *
 * Outcomes follow the tools' documented exit codes: dig 9 "no reply from server" (dig(1)
 * EXIT STATUS); curl 6 "Couldn't resolve host", 7 "Failed to connect" (refused, no route),
 * 28 "Operation timeout" (curl(1) EXIT CODES). A curl that connected (`%{time_connect}` > 0)
 * reached the target whatever the application answered: the matrix is about the path.
 * `--noproxy '*'`: a proxy in the environment would answer for every address.
 */
import type { EndpointSlice, Node, Service } from '../kube-types.js';
import type { ProbeKind } from './matrix.js';

export const probeScript = `set -u
echo "kproxy-probe v1 node=\${NODE_NAME:--} namespace=\${POD_NAMESPACE:--} as=\${KPROXY_AS:--}"
for arg in "$@"; do
  kind=\${arg%%=*}; addr=\${arg#*=}
  case $kind in
  dns)
    out=$(dig +search +time=2 +tries=2 +noall +comments +answer A "$addr" 2>&1); rc=$?
    if [ $rc -eq 9 ]; then echo "dns $addr timeout"; continue; fi
    if [ $rc -ne 0 ]; then echo "dns $addr error $rc"; continue; fi
    st=$(printf '%s\\n' "$out" | sed -n 's/.*status: \\([A-Z]*\\),.*/\\1/p' | tail -n 1)
    ips=$(printf '%s\\n' "$out" | awk '$4 == "A" { print $5 }' | tr '\\n' ',' | sed 's/,$//')
    case $st in
    NOERROR) if [ -n "$ips" ]; then echo "dns $addr ok $ips"; else echo "dns $addr empty"; fi ;;
    NXDOMAIN) echo "dns $addr nxdomain" ;;
    SERVFAIL) echo "dns $addr servfail" ;;
    *) echo "dns $addr error \${st:-none}" ;;
    esac ;;
  vip|endpoint|nodeport|apiserver)
    scheme=http; path=/
    if [ "$kind" = apiserver ]; then scheme=https; path=/api; fi
    w=$(curl -sk --noproxy '*' -o /dev/null --connect-timeout 3 --max-time 5 -w '%{time_connect} %{http_code}' "$scheme://$addr$path" 2>/dev/null); rc=$?
    tc=\${w%% *}; code=\${w#* }
    if awk -v t="$tc" 'BEGIN { exit !(t + 0 > 0) }'; then
      if [ "$rc" -eq 0 ] && [ "$code" != 000 ]; then echo "$kind $addr ok $code"; else echo "$kind $addr ok -"; fi
    elif [ $rc -eq 7 ]; then echo "$kind $addr refused"
    elif [ $rc -eq 28 ]; then echo "$kind $addr timeout"
    elif [ $rc -eq 6 ]; then echo "$kind $addr unresolved"
    else echo "$kind $addr error $rc"; fi ;;
  *) echo "unknown argument $arg" ;;
  esac
done
echo end
`;

/** The exec command: `sh -c SCRIPT kproxy-probe ARG…` ($0 is the name, "$@" the paths). */
export function probeCommand(args: readonly string[]): string[] {
  return ['sh', '-c', probeScript, 'kproxy-probe', ...args];
}

/** The paths of a probe command, or undefined when the command is not the probe's. */
export function probeArgs(command: readonly string[]): { kind: ProbeKind; target: string }[] | undefined {
  if (
    command[0] !== 'sh' ||
    command[1] !== '-c' ||
    command[2] !== probeScript ||
    command[3] !== 'kproxy-probe'
  )
    return undefined;
  const args = command
    .slice(4)
    .map(
      (a) =>
        /^(dns)=([A-Za-z0-9.-]+)$/.exec(a) ??
        /^(vip|endpoint|nodeport|apiserver)=((?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5})$/.exec(a),
    );
  if (args.some((m) => !m)) return undefined;
  return args.map((m) => ({ kind: m?.[1] as ProbeKind, target: m?.[2] as string }));
}

/** The API server's Service, by the name the runbooks test (its answer, 401 or 403, proves DNS and routing). */
export const apiServerTarget = 'kubernetes.default.svc:443';

const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/**
 * The paths to try for a Service from a node: its name, its ClusterIP and first TCP port,
 * up to `maxEndpoints` ready endpoints of that port (the VIP's family), the NodePort on the
 * node's own InternalIP when there is one, and the API server's Service.
 */
export function probePlan(
  service: Service | undefined,
  slices: readonly EndpointSlice[],
  node: Node | undefined,
  maxEndpoints: number,
): string[] {
  const args: string[] = [];
  if (service) {
    const ns = service.metadata.namespace ?? 'default';
    args.push(`dns=${service.metadata.name}.${ns}.svc`);
    const port = (service.spec.ports ?? []).find((p) => (p.protocol ?? 'TCP') === 'TCP');
    const vip = service.spec.clusterIP;
    const v6 = vip?.includes(':') ?? false;
    if (port && vip && vip !== 'None') {
      args.push(`vip=${hostPort(vip, port.port)}`);
      args.push(
        ...readyEndpoints(slices, port.name ?? '', v6 ? 'IPv6' : 'IPv4')
          .slice(0, maxEndpoints)
          .map((e) => `endpoint=${e}`),
      );
      const nodeIp = node?.status?.addresses?.find(
        (a) => a.type === 'InternalIP' && a.address.includes(':') === v6,
      );
      if (port.nodePort && nodeIp) args.push(`nodeport=${hostPort(nodeIp.address, port.nodePort)}`);
    }
  }
  args.push(`apiserver=${apiServerTarget}`);
  return args;
}

/** `ip:port` of the ready endpoints serving the named Service port, sorted (deterministic). */
function readyEndpoints(slices: readonly EndpointSlice[], portName: string, family: string): string[] {
  const found = new Set<string>();
  for (const slice of slices) {
    if (slice.addressType !== family) continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === portName)?.port;
    if (!port) continue;
    for (const e of slice.endpoints ?? [])
      if (e.conditions?.ready !== false)
        for (const a of e.addresses.slice(0, 1)) found.add(hostPort(a, port));
  }
  return [...found].sort();
}
