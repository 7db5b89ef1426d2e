/**
 * The client's-eye probe in the post-fix check (runbook 000 "Post-Fix Verification: 2.
 * Validate service routing", `curl http://<service-cluster-ip>:<port>`): the re-diagnosis
 * runs the probe again, and the thread says what it saw, node by node: "the VIP answers now".
 */
import type { Diagnosis } from '../engine/diagnosis.js';
import { escapeMrkdwn } from '../report/blocks.js';

export function probeAfterFix(d: Diagnosis): string {
  const f = d.findings.find((x) => x.check === 'probe.path');
  const lines = (f?.evidence ?? []).flatMap((line) => {
    const m = /^from (\S+).*?: (.*)$/.exec(line);
    const vip = m ? /VIP \S+ (✓|✗)/.exec(m[2] as string) : null;
    if (!m || !vip) return [];
    const said = vip[1] === '✓' ? 'the VIP answers now' : 'the VIP still does not answer';
    return [`${said} from ${m[1]} (${m[2]})`];
  });
  return lines.length > 0 ? ` Client's-eye probe: ${escapeMrkdwn(lines.join('; '))}.` : '';
}
