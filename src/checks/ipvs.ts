import { parseIpLink } from '../cluster/parse/node-text.js';
import type { ClusterView } from '../cluster/view.js';
import type { Facts } from './lib/facts.js';
import { missingIpvsModules } from './lib/ipvs-modules.js';
import type { Check, NodeVerdict } from './types.js';
import { finding } from './types.js';

const ipvsLogErrors =
  /can't use the IPVS proxier|Can't use ipvs proxier|IPVS proxier will not be used|Failed to create dummy interface|Ipvs not supported|Could not create dummy VS|Failed to load kernel module|error getting ipset version|Failed to add IPVS service/;

/** SOP 2D: in IPVS mode, kernel modules, the kube-ipvs0 dummy device and virtual servers. */
export const ipvs: Check = {
  id: 'kube-proxy.ipvs',
  domain: 'ipvs',
  title: 'IPVS modules, kube-ipvs0 and virtual servers',
  run(view, facts) {
    if (facts.mode.mode !== 'ipvs' && facts.mode.configured !== 'ipvs') {
      return finding(this, 'skip', `not in IPVS mode (mode ${facts.mode.mode})`);
    }
    const scheduler = configuredScheduler(view);
    const verdicts: Record<string, NodeVerdict> = {};
    const evidence: string[] = [];
    const failing: string[] = [];
    let known = 0;
    for (const node of facts.nodesInScope) {
      const problems: string[] = [];
      let sources = 0;
      const raw = view.nodeCaptures.get(node);
      if (raw?.lsmod.state === 'collected') {
        sources++;
        const absent = missingIpvsModules(raw.lsmod.value, scheduler);
        if (absent.length > 0) {
          problems.push(`kernel modules not loaded: ${absent.join(', ')}`);
          evidence.push(`${node} lsmod: no ${absent.join(', ')}`);
        }
      }
      if (raw?.ipLink.state === 'collected') {
        sources++;
        const link = parseIpLink(raw.ipLink.value).find((l) => l.name === 'kube-ipvs0');
        if (!link) {
          problems.push('kube-ipvs0 dummy interface missing');
          evidence.push(`${node} ip -o link: no kube-ipvs0`);
        }
      }
      const table = facts.captures(node)?.ipvs;
      if (table?.state === 'collected') {
        sources++;
        if (table.value.error) {
          problems.push(`ipvsadm: ${table.value.error}`);
          evidence.push(`${node} ipvsadm: ${table.value.error}`);
        } else if (table.value.virtualServers.length === 0) {
          problems.push('no IPVS virtual servers');
          evidence.push(`${node} ipvsadm -Ln: no virtual servers`);
        }
      }
      const logLines = ipvsLogLines(node, facts);
      if (logLines.length > 0) sources++;
      evidence.push(...logLines);
      if (logLines.length > 0 && problems.length === 0) problems.push('IPVS errors in kube-proxy log');
      if (sources > 0) known++;
      verdicts[node] =
        sources === 0
          ? { status: 'unknown', summary: 'no lsmod, ip link, ipvsadm or logs' }
          : problems.length > 0
            ? { status: 'fail', summary: problems.join('; ') }
            : { status: 'pass', summary: 'IPVS ready' };
      if (problems.length > 0) failing.push(node);
    }
    if (failing.length > 0) {
      return finding(this, 'fail', `IPVS not working on ${failing.slice(0, 5).join(', ')}`, {
        evidence: evidence.slice(0, 16),
        nodes: verdicts,
        suspect: {
          category: 'ipvs_modules',
          score: 0.9,
          detail: `IPVS mode not working on ${failing.length === 1 ? failing[0] : `${failing.length} nodes`}: ${verdicts[failing[0] as string]?.summary}`,
          nodes: failing,
        },
      });
    }
    if (known === 0)
      return finding(
        this,
        'unknown',
        'IPVS mode, but no lsmod, ip link, ipvsadm or kube-proxy logs collected',
        { nodes: verdicts },
      );
    return finding(
      this,
      'pass',
      `IPVS modules, kube-ipvs0 and virtual servers present (scheduler ${scheduler})`,
      { evidence, nodes: verdicts },
    );
  },
};

function configuredScheduler(view: ClusterView): string {
  const cm = view.kubeProxy.configMap;
  if (cm.state === 'missing' || !cm.value?.key) return 'rr';
  const text = cm.value.configMap.data?.[cm.value.key] ?? '';
  const m = /^\s*scheduler:\s*"?([a-z]*)"?/m.exec(text);
  return m?.[1] || 'rr';
}

function ipvsLogLines(node: string, facts: Facts): string[] {
  const out: string[] = [];
  for (const pod of facts.kubeProxyPodsByNode.get(node) ?? []) {
    for (const which of ['current', 'previous'] as const) {
      const log = facts.kubeProxyLog(pod.metadata.name, which);
      if (log.state === 'missing') continue;
      const line = log.value.findLast((l) => ipvsLogErrors.test(l.message));
      if (line) out.push(`${pod.metadata.name}${which === 'previous' ? ' previous' : ''} log: ${line.raw}`);
    }
  }
  return out;
}
