/**
 * The client's-eye probe's matrix, compactly, for the top of a report: one line per node
 * it ran from (`from ip-10-0-2-45 as app/batch (namespace app): name ✓ 10.100.12.7 · VIP
 * 10.100.12.7:80 ✗ timeout · pods 2/2 ✓ · API ✓ 403`), with that node's verdict. Nothing
 * when it did not run.
 */
import type { CheckStatus } from '../checks/types.js';
import type { Diagnosis } from '../engine/diagnosis.js';

export function probeLines(d: Diagnosis): { status: CheckStatus; line: string }[] {
  const f = d.findings.find((x) => x.check === 'probe.path');
  if (!f) return [];
  return f.evidence.map((line) => {
    const node = /^from (\S+)/.exec(line)?.[1] ?? '';
    return { status: f.nodes?.[node]?.status ?? f.status, line };
  });
}
