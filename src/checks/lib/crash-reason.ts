/**
 * Why kube-proxy exited, in its own words: the error lines that ended the previous
 * container. kube-proxy reports fatal start-up errors as `"Error running ProxyServer"
 * err=…` and component-base's `cli.Run` as `"command failed" err=…`
 * (cmd/kube-proxy/app/server.go, component-base/cli/run.go).
 */
import type { KlogLine } from '../../cluster/parse/klog.js';
import type { FaultCategory } from '../types.js';

export interface CrashReason {
  /** The failure domain the crash belongs to. */
  readonly category: Extract<FaultCategory, 'pod_crash' | 'ipvs_modules' | 'api_connectivity'>;
  readonly label: string;
  /** The KubeProxyConfiguration itself is broken: fix the ConfigMap, never roll it out again. */
  readonly config: boolean;
  readonly line: KlogLine;
}

/** kube-proxy refusing its configuration (decode or validation), not other fatal errors. */
export const configDecodeError =
  /failed validate|failed complete|Invalid value|strict decoding error|unknown proxy mode|failed to decode/;

const reasons: readonly {
  category: CrashReason['category'];
  label: string;
  config: boolean;
  pattern: RegExp;
}[] = [
  {
    // 1.26+: no fallback to iptables, kube-proxy exits (k/k PR #111806); 1.27+ checks by a dummy VS (PR #114669).
    category: 'ipvs_modules',
    label: 'IPVS is not usable on the node (kernel modules or ipset missing)',
    config: false,
    pattern:
      /can't use the IPVS proxier|IPVS proxier will not be used|required kernel modules are not loaded|error getting ipset version|Ipvs not supported|Could not create dummy VS|Failed to create dummy interface/i,
  },
  {
    category: 'api_connectivity',
    label: 'the API server rejects kube-proxy at start-up (Unauthorized/Forbidden)',
    config: false,
    pattern: /Unauthorized|is forbidden|Forbidden/,
  },
  {
    category: 'pod_crash',
    label: 'malformed KubeProxyConfiguration',
    config: true,
    pattern: configDecodeError,
  },
];

/** The named cause of a crash, from the previous container's last error lines. */
export function crashReason(previousLog: readonly KlogLine[]): CrashReason | undefined {
  const errors = previousLog.filter((l) => l.severity === 'E' || l.severity === 'F').slice(-3);
  for (const line of [...errors].reverse()) {
    const r = reasons.find((c) => c.pattern.test(line.message));
    if (r) return { category: r.category, label: r.label, config: r.config, line };
  }
  return undefined;
}
