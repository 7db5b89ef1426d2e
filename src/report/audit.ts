/**
 * `/kproxy audit` lines: one line per approval decision (the store also records the vote
 * that completed the quorum as `approval` next to `approved`: only `approved` is shown),
 * people as Slack mentions, kproxy's workers as workers, times in each reader's time zone.
 */
import type { AuditEntry } from '../approvals/store.js';
import { escapeMrkdwn } from './blocks.js';

const slackUser = /^[UW][A-Z0-9]{2,}$/;

function who(by: string): string {
  if (slackUser.test(by)) return `<@${by}>`;
  if (by.startsWith('worker-')) return `kproxy worker \`${escapeMrkdwn(by)}\``;
  return `\`${escapeMrkdwn(by || 'unknown')}\``;
}

/** Slack renders `<!date^…>` in the reader's time zone; the ISO time is the fallback text. */
function when(at: number): string {
  if (!Number.isFinite(at)) return 'unknown time';
  const iso = new Date(at).toISOString();
  return `<!date^${Math.floor(at / 1000)}^{date_short} {time}|${iso}>`;
}

export function auditLines(entries: readonly AuditEntry[]): string[] {
  const completed = new Set(entries.filter((e) => e.type === 'approved').map((e) => `${e.approval} ${e.by}`));
  return entries
    .filter((e) => !(e.type === 'approval' && completed.has(`${e.approval} ${e.by}`)))
    .map(
      (e) =>
        `${when(e.at)} \`${e.type}\` ${e.approval.slice(0, 8)} by ${who(e.by)}${e.detail ? ` — ${escapeMrkdwn(e.detail)}` : ''}`,
    );
}
