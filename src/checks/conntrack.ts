import { parseConntrackStats, parseSysctl } from '../cluster/parse/node-text.js';
import type { Check, NodeVerdict } from './types.js';
import { finding } from './types.js';

const tableFull = /nf_conntrack: (?:nf_conntrack: )?table full, dropping packet/;
const fullRatio = 0.9;
const warnRatio = 0.75;

/**
 * SOP 2F / D3: conntrack exhaustion drops new connections even when rules are right.
 * The `invalid` counter is not pressure: probe RSTs and other harmless traffic raise it.
 */
export const conntrack: Check = {
  id: 'node.conntrack',
  domain: 'conntrack',
  title: 'Conntrack table not exhausted',
  run(view, facts) {
    const verdicts: Record<string, NodeVerdict> = {};
    const evidence: string[] = [];
    const failing: string[] = [];
    const warned: string[] = [];
    let known = 0;
    for (const node of facts.nodesInScope) {
      const raw = view.nodeCaptures.get(node);
      if (!raw) continue;
      const problems: string[] = [];
      const warnings: string[] = [];
      let sources = 0;
      if (raw.dmesg.state === 'collected') {
        sources++;
        const lines = raw.dmesg.value.split('\n').filter((l) => tableFull.test(l));
        if (lines.length > 0) {
          problems.push(`kernel dropped packets: conntrack table full (${lines.length} line(s))`);
          evidence.push(`${node} dmesg: ${lines.at(-1)?.trim()}`);
        }
      }
      if (raw.sysctl.state === 'collected') {
        const sysctl = parseSysctl(raw.sysctl.value);
        const count = Number(sysctl.get('net.netfilter.nf_conntrack_count'));
        const max = Number(sysctl.get('net.netfilter.nf_conntrack_max'));
        if (count >= 0 && max > 0) {
          sources++;
          const ratio = count / max;
          const text = `${node} sysctl: nf_conntrack_count=${count} nf_conntrack_max=${max} (${Math.round(ratio * 100)}%)`;
          if (ratio >= fullRatio) {
            problems.push(`conntrack ${Math.round(ratio * 100)}% full`);
            evidence.push(text);
          } else if (ratio >= warnRatio) {
            warnings.push(`conntrack ${Math.round(ratio * 100)}% full`);
            evidence.push(text);
          }
        }
      }
      if (raw.conntrack.state === 'collected') {
        const stats = parseConntrackStats(raw.conntrack.value);
        if (stats.cpus > 0) {
          sources++;
          const t = stats.totals;
          const pressure = (t.drop ?? 0) + (t.early_drop ?? 0) + (t.insert_failed ?? 0);
          if (pressure > 0) {
            warnings.push(
              `conntrack -S: drop=${t.drop ?? 0} early_drop=${t.early_drop ?? 0} insert_failed=${t.insert_failed ?? 0}`,
            );
            evidence.push(
              `${node} conntrack -S (sum of ${stats.cpus} CPUs): drop=${t.drop ?? 0} early_drop=${t.early_drop ?? 0} insert_failed=${t.insert_failed ?? 0}`,
            );
          }
        }
      }
      if (sources === 0) continue;
      known++;
      if (problems.length > 0) {
        verdicts[node] = { status: 'fail', summary: [...problems, ...warnings].join('; ') };
        failing.push(node);
      } else if (warnings.length > 0) {
        verdicts[node] = { status: 'warn', summary: warnings.join('; ') };
        warned.push(node);
      } else verdicts[node] = { status: 'pass', summary: 'conntrack healthy' };
    }
    if (known === 0)
      return finding(this, 'unknown', 'no dmesg, conntrack sysctls or conntrack -S for the nodes in scope');
    if (failing.length > 0) {
      return finding(this, 'fail', `conntrack table exhausted on ${failing.join(', ')}`, {
        evidence,
        nodes: verdicts,
        suspect: {
          category: 'conntrack',
          score: 0.85,
          detail: `conntrack table full on ${failing.join(', ')}: new connections are dropped even though kube-proxy rules are correct`,
          nodes: failing,
        },
      });
    }
    if (warned.length > 0)
      return finding(this, 'warn', `conntrack pressure on ${warned.join(', ')}`, {
        evidence,
        nodes: verdicts,
      });
    return finding(this, 'pass', `conntrack healthy on ${known} node(s)`, { nodes: verdicts });
  },
};
