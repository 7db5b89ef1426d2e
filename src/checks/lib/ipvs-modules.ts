import { parseLsmod } from '../../cluster/parse/node-text.js';
import type { ClusterView } from '../../cluster/view.js';

/** The kernel modules IPVS mode needs (SOP 2D), for a scheduler. */
export function missingIpvsModules(lsmodText: string, scheduler = 'rr'): string[] {
  const loaded = parseLsmod(lsmodText);
  const required = [...new Set(['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', `ip_vs_${scheduler}`])];
  const absent = required.filter((m) => !loaded.has(m));
  if (!loaded.has('nf_conntrack') && !loaded.has('nf_conntrack_ipv4')) absent.push('nf_conntrack');
  return absent;
}

/** Nodes whose captured lsmod lacks IPVS modules, as evidence lines ("node: no ip_vs, …"). */
export function ipvsModuleGaps(view: ClusterView): string[] {
  const gaps: string[] = [];
  for (const [node, captures] of view.nodeCaptures) {
    if (captures.lsmod.state !== 'collected') continue;
    const absent = missingIpvsModules(captures.lsmod.value);
    if (absent.length > 0) gaps.push(`${node}: no ${absent.join(', ')}`);
  }
  return gaps;
}
