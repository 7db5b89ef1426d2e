/**
 * The klog header reader (src/cluster/parse/klog.ts) reads the fixed-width fields by
 * position and computes the time from a per-month cache, so it is held to the full regex
 * and Date.UTC: the same lines match, with the same fields, on every log of the example
 * bundles and on the edge cases of the grammar (blanks as `\s` reads them, 1–6 microsecond
 * digits, a `]` right after the blanks, line terminators after the `]`, out-of-range dates).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type KlogLine, parseKlog, parseKlogLine } from '../src/cluster/parse/klog.js';
import { bundlesDir } from './helpers/bundles.js';

const klogHeader = /^([IWEF])(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{1,6})\s+\d+\s+([^\]]+)\] ?(.*)$/;

/** The reference: the regex, its fields converted as klog.ts documents. */
function byRegex(raw: string, observedAt: Date): KlogLine | undefined {
  const m = klogHeader.exec(raw);
  if (!m) return undefined;
  const [, sev, mon, day, hh, mm, ss, micros = '0', source = '', message = ''] = m;
  const ms = Number(micros.length >= 3 ? micros.slice(0, 3) : micros.padEnd(3, '0'));
  const at = (year: number) =>
    Date.UTC(year, Number(mon) - 1, Number(day), Number(hh), Number(mm), Number(ss), ms);
  let time = at(observedAt.getUTCFullYear());
  if (time > observedAt.getTime() + 24 * 3600 * 1000) time = at(observedAt.getUTCFullYear() - 1);
  return { severity: sev as KlogLine['severity'], time: new Date(time), source, message, raw };
}

const observed = [
  new Date(),
  new Date('2025-01-01T00:30:00Z'), // a December line is last year's
  new Date('2024-12-31T23:00:00Z'),
];

const edgeCases = [
  'I0312 17:42:27.088399       1 proxier.go:1507] "Syncing iptables rules"',
  'E0312 17:42:27.0 1 a]',
  'W0312 17:42:27.08 1 a] two digits',
  'F0312 17:42:27.088 1 a]no space',
  'I0312 17:42:27.0883991 1 a] seven digits',
  'I0312 17:42:27.088399  1  ] empty source after two blanks',
  'I0312 17:42:27.088399 1 ] empty source after one blank',
  'I0312 17:42:27.088399 1  ]',
  'I0312 17:42:27.088399\t1\ta b] tabs, a blank in the source',
  'I0312 17:42:27.088399\u00a01\u3000src] unicode blanks',
  'I0312 17:42:27.088399 12 a]] two brackets',
  'I0312 17:42:27.088399 1 a\nb] newline in the source',
  'I0312 17:42:27.088399 1 a] carriage return\r',
  'I0312 17:42:27.088399 1 a] line separator\u2028',
  'I0312 17:42:27.088399 1 a]  two spaces',
  'I0312 17:42:27.088399 1 a] ',
  'I0312 17:42:27.088399 x a] thread id not a number',
  'I0312 17:42:27.088399 1a] no blank after the thread id',
  'I0312 17:42:27. 1 a] no microseconds',
  'I0312 17:42:27.088399 1 no bracket',
  'X0312 17:42:27.088399 1 a] severity',
  'i0312 17:42:27.088399 1 a] lower case',
  'I1312 17:42:27.088399 1 a] month 13',
  'I0230 25:61:61.088399 1 a] out of range',
  'I0000 00:00:00.000000 1 a] zeros',
  'E1231 23:59:59.999999 1 a] New Year',
  'I0312 17:42:27.\u0660 1 a] an Arabic-Indic digit',
  'I０312 17:42:27.1 1 a] a full-width digit',
  'I0312 17:42:27',
  'I0312',
  '',
];

describe('klog header: the reader agrees with the full regex and Date.UTC', () => {
  it('on the edge cases of the grammar', () => {
    for (const o of observed)
      for (const line of edgeCases)
        expect(parseKlogLine(line, o), JSON.stringify(line)).toEqual(byRegex(line, o));
    expect(edgeCases.filter((l) => byRegex(l, observed[0] as Date)).length).toBeGreaterThan(15);
    expect(parseKlogLine('I0312 17:42:27.088399  1  ]', new Date())?.source).toBe(' ');
  });

  it('on every log of the example bundles', async () => {
    const logs: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.name.endsWith('.log')) logs.push(full);
      }
    };
    await walk(bundlesDir);
    expect(logs.length).toBeGreaterThan(20);
    let entries = 0;
    for (const file of logs) {
      const lines = (await readFile(file, 'utf8')).split(/\r?\n/);
      for (const line of lines)
        expect(parseKlogLine(line, observed[0] as Date)).toEqual(byRegex(line, observed[0] as Date));
      entries += parseKlog(lines, observed[0] as Date).length;
    }
    expect(entries).toBeGreaterThan(1000);
  });
});
