/** `--format text`: a report for a terminal at 3 a.m. — cause first, evidence under it. */
import type { CheckStatus, Finding } from '../checks/types.js';
import type { Diagnosis } from '../engine/diagnosis.js';
import { byDomain, targetLabel } from './group.js';
import { probeLines } from './probe-lines.js';
import { actionInWords, causeInWords, runbookInWords, timesInWords } from './words.js';

export interface TextOptions {
  readonly color?: boolean;
  /** Every check and its evidence, passing ones and old timeline lines too. */
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
        : `${c.red(causeInWords(d))} ${c.dim(`(${d.rootCause.category})`)}`;
  out.push(`${c.bold('ROOT CAUSE')}  ${cause}   severity ${c.bold(d.severity)}   verdict ${d.verdict}`);
  out.push(`  ${timesInWords(d.rootCause.detail)}`);
  if (d.rootCause.nodes.length > 0) out.push(`  nodes: ${d.rootCause.nodes.join(', ')}`);
  out.push(`  kube-proxy: mode ${d.kubeProxy.mode}, version ${d.kubeProxy.version ?? 'unknown'}`);
  for (const p of probeLines(d)) out.push(`  probe ${tint(p.status, marks[p.status])} ${p.line}`);
  if (d.stoppedAfter)
    out.push(c.dim(`  runbook order stopped after "${d.stoppedAfter.phase}": ${d.stoppedAfter.reason}`));
  if (d.verdict === 'inconclusive') {
    out.push('', c.bold('TO DECIDE, COLLECT'));
    for (const m of d.missing) out.push(`  ${m.check}: ${m.what}`, c.dim(`      → ${m.how}`));
  }
  // What to do comes right after the cause: the evidence is for those who want to check.
  out.push('', ...whatToDo(d, c));
  if (d.ranking.length > 1) {
    out.push('', c.bold('RANKING'));
    for (const r of d.ranking) out.push(`  ${r.score.toFixed(2)}  ${r.category.padEnd(17)} ${r.detail}`);
  }
  out.push('', c.bold('FINDINGS'), ...findings(d, options.verbose ?? false, c, tint));
  const problemNodes = d.nodes.filter(
    (n) => n.status === 'fail' || n.status === 'warn' || n.status === 'unknown',
  );
  if (problemNodes.length > 0) {
    out.push('', c.bold('PER NODE'));
    for (const n of problemNodes.slice(0, 20)) {
      out.push(`  ${tint(n.status, marks[n.status])} ${n.node}`);
      for (const check of n.checks.filter((x) => x.status !== 'pass'))
        out.push(`      ${check.check}: ${check.status} — ${timesInWords(check.summary)}`);
    }
    if (problemNodes.length > 20) out.push(c.dim(`  … and ${problemNodes.length - 20} more nodes`));
  }
  return `${out.join('\n')}\n`;
}

function whatToDo(d: Diagnosis, c: Palette): string[] {
  const out = [c.bold('WHAT TO DO')];
  out.push(`  Now:       ${d.mitigation.immediate}`);
  out.push(`  Long term: ${d.mitigation.longTerm}`);
  if (d.mitigation.actions.length > 0) {
    out.push('  Actions kproxy can run after a second person approves:');
    for (const [i, a] of d.mitigation.actions.entries()) {
      out.push(
        `    ${i + 1}. ${actionInWords(a)} [${a.safety}, ${a.id}] — ${a.when}${a.blockedBy ? ` (refused: ${a.blockedBy})` : ''}`,
      );
    }
  }
  if (d.crossReference.length > 0)
    out.push(c.dim(`  See also: ${d.crossReference.map(runbookInWords).join('; ')}`));
  return out;
}

/**
 * Every check with --verbose; otherwise what needs attention (and the timeline) in full,
 * and the passing and skipped checks on one line each.
 */
function findings(
  d: Diagnosis,
  verbose: boolean,
  c: Palette,
  tint: (s: CheckStatus, text: string) => string,
): string[] {
  const out: string[] = [];
  const quiet = (f: Finding) => !verbose && (f.status === 'pass' || f.status === 'skip');
  for (const group of byDomain(d.findings)) {
    const shown = group.findings.filter((f) => !quiet(f));
    if (shown.length === 0) continue;
    out.push(`  ${c.bold(group.title)}`);
    for (const f of shown) {
      out.push(
        `    ${tint(f.status, `${marks[f.status]} ${f.status.padEnd(7)}`)} ${f.check.padEnd(23)} ${timesInWords(f.summary)}`,
      );
      // The timeline check itself leaves out start-up lines from long before the incident.
      if (f.status !== 'pass' || verbose)
        for (const e of f.evidence) out.push(c.dim(`        ${timesInWords(e)}`));
    }
  }
  for (const status of ['pass', 'skip'] as const) {
    const quietOnes = byDomain(d.findings)
      .flatMap((g) => g.findings)
      .filter((f) => f.status === status && quiet(f));
    if (quietOnes.length > 0)
      out.push(
        `  ${tint(status, marks[status])} ${quietOnes.length} check(s) ${status === 'pass' ? 'pass' : 'skipped'}: ${quietOnes.map((f) => f.check).join(', ')} ${c.dim('(--verbose shows them)')}`,
      );
  }
  return out;
}

type Palette = ReturnType<typeof palette>;

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
