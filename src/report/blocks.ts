/**
 * Slack Block Kit rendering of a diagnosis (the bot posts this in the incident thread).
 * Respects Block Kit limits: 50 blocks, 3,000 characters per section text, 150 per
 * header, 75 per button label.
 */
import type { CheckStatus } from '../checks/types.js';
import type { Diagnosis, SuggestedAction } from '../engine/diagnosis.js';
import { byDomain, targetLabel } from './group.js';
import { probeLines } from './probe-lines.js';
import { actionInWords, causeInWords, runbookInWords, timesInWords } from './words.js';

export const blockKitLimits = {
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2000,
  fieldText: 2000,
} as const;

export type Block = Record<string, unknown>;

export interface BlocksOptions {
  /**
   * Opaque references for the action buttons (from the approvals store). Without them
   * the actions are listed as text: a button must never carry what a user could forge.
   */
  readonly actionRefs?: readonly string[];
  /** Evidence lines shown per finding. */
  readonly evidencePerFinding?: number;
  /** What to do and the actions only (after a post-fix check's line, not a second full report). */
  readonly compact?: boolean;
}

const icons: Record<CheckStatus, string> = {
  pass: ':white_check_mark:',
  fail: ':red_circle:',
  warn: ':large_yellow_circle:',
  unknown: ':grey_question:',
  skip: ':heavy_minus_sign:',
  info: ':information_source:',
};

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Text for inside a ``` code block: escaped, and with its backticks replaced by a lookalike
 * (U+02CB) so text from a cluster (a probe's output, an event message) cannot close the
 * block and format what follows.
 */
export function escapeCode(text: string): string {
  return escapeMrkdwn(text).replace(/`/g, '\u02cb');
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const section = (text: string): Block => ({
  type: 'section',
  text: { type: 'mrkdwn', text: truncate(text, blockKitLimits.sectionText) },
});

export function renderBlocks(d: Diagnosis, options: BlocksOptions = {}): { text: string; blocks: Block[] } {
  const inconclusive = d.verdict === 'inconclusive';
  const cause = inconclusive ? 'INCONCLUSIVE' : causeInWords(d);
  // The notification text keeps the category: it is what people search the channel for.
  const text = truncate(
    `kproxy: ${cause}${inconclusive ? '' : ` (${d.rootCause.category === 'none' ? 'no fault found' : d.rootCause.category})`} — ${targetLabel(d.target)} on ${d.cluster} (${d.severity})`,
    blockKitLimits.sectionText,
  );
  const blocks: Block[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(
          `${inconclusive ? '❔' : d.rootCause.category === 'none' ? '✅' : '🔴'} ${cause} · ${d.cluster}`,
          blockKitLimits.headerText,
        ),
        emoji: true,
      },
    },
    section(
      `*Root cause:* ${escapeMrkdwn(cause)} (\`${d.rootCause.category}\`) · verdict *${d.verdict}*\n${escapeMrkdwn(timesInWords(d.rootCause.detail))}`,
    ),
    ...(inconclusive && d.missing.length > 0
      ? [
          section(
            `*To decide, collect*\n${d.missing.map((m) => `• \`${m.check}\`: ${escapeMrkdwn(m.how)}`).join('\n')}`,
          ),
        ]
      : []),
    {
      type: 'section',
      fields: [
        ['Severity', d.severity],
        ['Target', targetLabel(d.target)],
        ['kube-proxy', `${d.kubeProxy.mode} · ${d.kubeProxy.version ?? 'version unknown'}`],
        [
          'Affected nodes',
          d.rootCause.nodes.length > 0
            ? d.rootCause.nodes.slice(0, 5).join(', ') +
              (d.rootCause.nodes.length > 5 ? ` +${d.rootCause.nodes.length - 5}` : '')
            : '—',
        ],
      ].map(([k, v]) => ({
        type: 'mrkdwn',
        text: truncate(`*${k}*\n${escapeMrkdwn(v as string)}`, blockKitLimits.fieldText),
      })),
    },
    ...probeBlock(d),
  ];
  const todo: Block[] = [
    section(
      `*What to do now*\n${escapeMrkdwn(d.mitigation.immediate)}\n*Long term*\n${escapeMrkdwn(d.mitigation.longTerm)}${
        d.crossReference.length > 0
          ? `\n_See also: ${escapeMrkdwn(d.crossReference.map(runbookInWords).join('; '))}_`
          : ''
      }`,
    ),
    ...(d.mitigation.actions.length > 0 ? actionBlocks(d.mitigation.actions, options.actionRefs) : []),
  ];
  if (options.compact) return { text, blocks: todo };
  blocks.push(...todo, { type: 'divider' }, ...evidenceBlocks(d, options.evidencePerFinding ?? 4));
  return { text, blocks: capBlocks(blocks) };
}

/** The probe's matrix, one line per node, right under the cause: what a client there saw. */
function probeBlock(d: Diagnosis): Block[] {
  const lines = probeLines(d);
  if (lines.length === 0) return [];
  const text = lines.map((p) => `${icons[p.status]} *Probe* ${escapeMrkdwn(p.line)}`).join('\n');
  return [
    { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(text, blockKitLimits.fieldText) }] },
  ];
}

/**
 * The findings that need attention with their evidence, passing checks on one line, the
 * nodes with problems, the recent timeline, and the counts.
 */
function evidenceBlocks(d: Diagnosis, perFinding: number): Block[] {
  const blocks: Block[] = [];
  const passing: string[] = [];

  for (const group of byDomain(d.findings)) {
    if (group.domain === 'timeline') continue;
    const lines: string[] = [];
    for (const f of group.findings) {
      if (f.status === 'pass' || f.status === 'skip') {
        passing.push(f.check);
        continue;
      }
      lines.push(`${icons[f.status]} \`${f.check}\` ${escapeMrkdwn(timesInWords(f.summary))}`);
      if ((f.status === 'fail' || f.status === 'warn' || f.status === 'unknown') && f.evidence.length > 0) {
        lines.push(
          `\`\`\`${escapeCode(
            f.evidence
              .slice(0, perFinding)
              .map((e) => truncate(timesInWords(e), 400))
              .join('\n'),
          )}\`\`\``,
        );
      }
    }
    if (lines.length > 0) blocks.push(section(`*${group.title}*\n${lines.join('\n')}`));
  }
  if (passing.length > 0)
    blocks.push(
      section(
        `${icons.pass} ${passing.length} other check(s) pass or do not apply: ${passing.map((c) => `\`${c}\``).join(', ')} _(all of them: \`kproxy diagnose --verbose\`)_`,
      ),
    );

  const problemNodes = d.nodes.filter((n) => n.status === 'fail' || n.status === 'warn');
  if (problemNodes.length > 0) {
    const lines = problemNodes.slice(0, 10).map(
      (n) =>
        `${icons[n.status]} *${escapeMrkdwn(n.node)}*: ${escapeMrkdwn(
          n.checks
            .filter((c) => c.status !== 'pass')
            .map((c) => `${c.check} — ${c.summary}`)
            .join('; '),
        )}`,
    );
    if (problemNodes.length > 10) lines.push(`…and ${problemNodes.length - 10} more nodes`);
    blocks.push(section(`*Per node*\n${lines.join('\n')}`));
  }

  const timeline = d.findings.find((f) => f.domain === 'timeline');
  if (timeline && timeline.evidence.length > 0) {
    blocks.push(
      section(
        `*Timeline* (last ${Math.min(8, timeline.evidence.length)})\n\`\`\`${escapeCode(
          timeline.evidence
            .slice(-8)
            .map((e) => truncate(timesInWords(e), 300))
            .join('\n'),
        )}\`\`\``,
      ),
    );
  }

  const counts = countStatuses(d);
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: truncate(
          escapeMrkdwn(`observed ${d.observedAt} · ${d.origin} · ${counts}`),
          blockKitLimits.sectionText,
        ),
      },
    ],
  });
  return blocks;
}

function actionBlocks(actions: readonly SuggestedAction[], refs: readonly string[] | undefined): Block[] {
  // A person's words on the button; the action id travels in the value (its reference).
  const label = (a: SuggestedAction) => truncate(actionInWords(a), blockKitLimits.buttonText);
  if (!refs || refs.length !== actions.length) {
    return [
      section(
        `*Actions* (run only after a second person approves)\n${actions.map((a) => `• ${escapeMrkdwn(actionInWords(a))} (${a.safety}, \`${a.id}\`) — ${escapeMrkdwn(a.when)}${a.blockedBy ? ` (refused: ${escapeMrkdwn(a.blockedBy)})` : ''}`).join('\n')}`,
      ),
    ];
  }
  return [
    section(
      [
        "*Actions* (each needs a second person's approval)",
        ...actions.map(
          (a, i) =>
            `${i + 1}. ${escapeMrkdwn(actionInWords(a))} (${a.safety}) — ${escapeMrkdwn(a.when)}${a.blockedBy ? `\n    \`${a.id}\` is refused for now: ${escapeMrkdwn(a.blockedBy)}` : ''}`,
        ),
      ].join('\n'),
    ),
    {
      type: 'actions',
      block_id: 'kproxy_actions',
      elements: actions.slice(0, 25).map((a, i) => ({
        type: 'button',
        action_id: `kproxy_request_action_${i}`,
        text: { type: 'plain_text', text: label(a) },
        value: truncate(refs[i] as string, blockKitLimits.buttonValue),
        ...(a.safety === 'RED' ? { style: 'danger' } : {}),
      })),
    },
  ];
}

function countStatuses(d: Diagnosis): string {
  const counts = new Map<CheckStatus, number>();
  for (const f of d.findings) counts.set(f.status, (counts.get(f.status) ?? 0) + 1);
  return (['fail', 'warn', 'unknown', 'pass', 'skip'] as CheckStatus[])
    .filter((s) => counts.get(s))
    .map((s) => `${counts.get(s)} ${s}`)
    .join(', ');
}

/** Over the block limit, keep the head and the actions/context tail, and say so. */
function capBlocks(blocks: Block[]): Block[] {
  if (blocks.length <= blockKitLimits.blocks) return blocks;
  const tail = blocks.slice(-4);
  const head = blocks.slice(0, blockKitLimits.blocks - tail.length - 1);
  return [
    ...head,
    section(`_${blocks.length - head.length - tail.length} more sections omitted; see the full report._`),
    ...tail,
  ];
}

/**
 * Splits a report into messages Slack accepts: at most 50 blocks each and about 11,000
 * characters of JSON (Slack refuses long messages well below the documented per-field
 * limits: `msg_blocks_too_long`). The first message keeps the cause, what to do and the
 * actions; the evidence follows.
 */
export function splitForSlack(
  blocks: readonly Block[],
  maxChars = 11_000,
  maxBlocks = blockKitLimits.blocks,
): Block[][] {
  const messages: Block[][] = [];
  let current: Block[] = [];
  let size = 0;
  for (const block of blocks) {
    const length = JSON.stringify(block).length;
    if (current.length > 0 && (size + length > maxChars || current.length >= maxBlocks)) {
      messages.push(current);
      current = [];
      size = 0;
    }
    current.push(block);
    size += length;
  }
  if (current.length > 0) messages.push(current);
  return messages;
}
