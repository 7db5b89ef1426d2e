/** Block Kit splitting of long reports and secret redaction in logs. */

import { describe, expect, it } from 'vitest';
import { createLogger, redact } from '../src/log.js';
import { type Block, blockKitLimits, splitForSlack } from '../src/report/blocks.js';

describe('splitForSlack', () => {
  const section = (chars: number): Block => ({
    type: 'section',
    text: { type: 'mrkdwn', text: 'x'.repeat(chars) },
  });

  it('keeps a short report in one message', () => {
    expect(splitForSlack([section(100), section(100)])).toHaveLength(1);
  });

  it('splits by total size and by block count, keeping order', () => {
    const blocks = Array.from({ length: 12 }, () => section(2900));
    const parts = splitForSlack(blocks);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.flat()).toEqual(blocks);
    for (const p of parts) expect(JSON.stringify(p).length).toBeLessThanOrEqual(11_000 + 3_000);
    const many = Array.from({ length: 120 }, () => section(10));
    const byCount = splitForSlack(many);
    expect(byCount.map((p) => p.length)).toEqual([blockKitLimits.blocks, blockKitLimits.blocks, 20]);
  });
});

describe('logs', () => {
  it('redact tokens in values and secret-looking keys', () => {
    expect(
      redact({
        msg: 'posting with xoxb-123-456-abc',
        token: 'anything',
        nested: { authorization: 'Bearer abc.def', ok: 'fine' },
      }),
    ).toEqual({
      msg: 'posting with [redacted]',
      token: '[redacted]',
      nested: { authorization: '[redacted]', ok: 'fine' },
    });
    const lines: string[] = [];
    const logger = createLogger('t', (l) => lines.push(l));
    logger.info('called with xapp-1-A-B', { signingSecret: 's3cr3t' });
    logger.warn('request', {
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
      error: 'POST failed: Bearer abc.def',
      env: { SLACK_BOT_TOKEN: 'xoxb-1-2-3', password: 'hunter2' },
    });
    expect(lines.join('\n')).not.toMatch(/xapp-1|s3cr3t|dXNlcjpwYXNz|abc\.def|xoxb-1|hunter2/);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 'info',
      component: 't',
      msg: 'called with [redacted]',
    });
    expect(JSON.parse(lines[1] ?? '{}')).toMatchObject({
      level: 'warn',
      headers: { authorization: '[redacted]' },
      env: { password: '[redacted]' },
    });
    // One JSON object per line, with an ISO time.
    expect(Date.parse(JSON.parse(lines[1] ?? '{}').time)).not.toBeNaN();
  });
});
