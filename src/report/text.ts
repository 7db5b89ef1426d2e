/** `--format text`: a report for a terminal at 3 a.m. — cause first, evidence under it. */
import type { CheckStatus } from '../checks/types.js';
import type { Diagnosis } from '../engine/diagnosis.js';
import { byDomain, targetLabel } from './group.js';

export interface TextOptions {
  readonly color?: boolean;
  /** Show evidence of passing checks too. */
  readonly verbose?: boolean;
}

const marks: Record<CheckStatus, string> = {
  pass: '✓',
  fail: '✗',
  warn: '!',
  unknown: '?',
  skip: '-',
  info: '·',
};

export function renderText(d: Diagnosis, options: TextOptions = {}): string {
  const c = palette(options.color ?? false);
  const tint = (s: CheckStatus, text: string) =>
    s === 'fail'
      ? c.red(text)
      : s === 'warn'
        ? c.yellow(text)
        : s === 'unknown'
          ? c.magenta(text)
          : s === 'pass'
            ? c.green(text)
            : c.dim(text);
  const out: string[] = [];
  out.push(c.bold(`kproxy diagnosis · ${d.cluster} · ${targetLabel(d.target)}`));
  out.push(c.dim(`observed ${d.observedAt} from ${d.origin}`));
  out.push('');
  const cause =
    d.verdict === 'inconclusive'
      ? c.magenta('INCONCLUSIVE — the data that decides is missing')
      : d.rootCause.category === 'none'
        ? c.green('none — no fault found')
        : c.red(d.rootCause.category);
  out.push(`${c.bold('ROOT CAUSE')}  ${cause}   severity ${c.bold(d.severity)}   verdict ${d.verdict}`);
  out.push(`  ${d.rootCause.detail}`);
  if (d.rootCause.nodes.length > 0) out.push(`  nodes: ${d.rootCause.nodes.join(', ')}`);
  out.push(`  kube-proxy: mode ${d.kubeProxy.mode}, version ${d.kubeProxy.version ?? 'unknown'}`);
  if (d.stoppedAfter)
    out.push(c.dim(`  runbook order stopped after "${d.stoppedAfter.phase}": ${d.stoppedAfter.reason}`));
  if (d.verdict === 'inconclusive') {
    out.push('', c.bold('TO DECIDE, COLLECT'));
    for (const m of d.missing) out.push(`  ${m.check}: ${m.what}`, c.dim(`      → ${m.how}`));
  }
  if (d.ranking.length > 1) {
    out.push('', c.bold('RANKING'));
    for (const r of d.ranking) out.push(`  ${r.score.toFixed(2)}  ${r.category.padEnd(17)} ${r.detail}`);
  }
  out.push('', c.bold('FINDINGS'));
  for (const group of byDomain(d.findings)) {
    out.push(`  ${c.bold(group.title)}`);
    for (const f of group.findings) {
      out.push(
        `    ${tint(f.status, `${marks[f.status]} ${f.status.padEnd(7)}`)} ${f.check.padEnd(23)} ${f.summary}`,
      );
      const showEvidence =
        f.status === 'fail' ||
        f.status === 'warn' ||
        f.status === 'unknown' ||
        f.status === 'info' ||
        options.verbose;
      if (showEvidence) for (const e of f.evidence) out.push(c.dim(`        ${e}`));
    }
  }
  const problemNodes = d.nodes.filter(
    (n) => n.status === 'fail' || n.status === 'warn' || n.status === 'unknown',
  );
  if (problemNodes.length > 0) {
    out.push('', c.bold('PER NODE'));
    for (const n of problemNodes.slice(0, 20)) {
      out.push(`  ${tint(n.status, marks[n.status])} ${n.node}`);
      for (const check of n.checks.filter((x) => x.status !== 'pass'))
        out.push(`      ${check.check}: ${check.status} — ${check.summary}`);
    }
    if (problemNodes.length > 20) out.push(c.dim(`  … and ${problemNodes.length - 20} more nodes`));
  }
  out.push('', c.bold('WHAT TO DO'));
  out.push(`  Now:       ${d.mitigation.immediate}`);
  out.push(`  Long term: ${d.mitigation.longTerm}`);
  if (d.mitigation.actions.length > 0) {
    out.push('  Actions kproxy can run after a second person approves:');
    for (const [i, a] of d.mitigation.actions.entries()) {
      out.push(
        `    ${i + 1}. ${a.id} [${a.safety}]${a.node ? ` ${a.node}` : ''} — ${a.when}${a.blockedBy ? ` (refused: ${a.blockedBy})` : ''}`,
      );
    }
  }
  if (d.crossReference.length > 0) out.push(c.dim(`  See also: ${d.crossReference.join('; ')}`));
  return `${out.join('\n')}\n`;
}

function palette(enabled: boolean) {
  const wrap = (code: string) => (s: string) => (enabled ? `\u001b[${code}m${s}\u001b[0m` : s);
  return {
    bold: wrap('1'),
    dim: wrap('2'),
    red: wrap('31'),
    green: wrap('32'),
    yellow: wrap('33'),
    magenta: wrap('35'),
  };
}
