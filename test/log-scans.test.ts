/**
 * The kube-proxy log paths written for speed (src/cluster/parse/klog.ts parseKlogText, the
 * last-month cache of the klog clock, src/checks/lib/log-history.ts splitErrors with
 * patterns and firstMatching) held to the plain code they replace, on every kube-proxy log
 * of the example bundles: the lab's real kube-proxy (klog text, multi-line `err=<` values,
 * crash loops with configuration errors), the JSON-logging captures, list/watch failures
 * followed by "Caches are synced".
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstMatching, splitErrors } from '../src/checks/lib/log-history.js';
import { type KlogLine, parseKlog, parseKlogLine, parseKlogText } from '../src/cluster/parse/klog.js';
import { parseKubeProxyLog } from '../src/cluster/parse/kube-proxy-log.js';
import { bundlesDir } from './helpers/bundles.js';

async function exampleLogs(): Promise<{ file: string; lines: string[] }[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.name.endsWith('.log')) files.push(full);
    }
  };
  await walk(bundlesDir);
  return Promise.all(
    files.sort().map(async (file) => ({ file, lines: (await readFile(file, 'utf8')).split(/\r?\n/) })),
  );
}

const observedAt = new Date();

describe('parseKlogText: parseKlog of a log with no `{` line, else undefined', () => {
  it('on every example log, and on each with a `{` line put first, inside, inside a multi-line value and last', async () => {
    const logs = await exampleLogs();
    expect(logs.length).toBeGreaterThan(100);
    expect(logs.some((l) => l.lines.some((x) => x.startsWith('{')))).toBe(true);
    expect(logs.some((l) => l.lines.some((x) => x.endsWith('=<')))).toBe(true);
    for (const { file, lines } of logs) {
      const variants = [lines];
      const open = lines.findIndex((x) => x.endsWith('=<'));
      for (const at of [0, lines.length >> 1, open + 1, lines.length]) {
        if (at < 0 || at > lines.length) continue;
        for (const json of ['{"ts":1700000000000.5,"caller":"a.go:1","msg":"m","v":0}', '{ not JSON'])
          variants.push([...lines.slice(0, at), json, ...lines.slice(at)]);
      }
      for (const v of variants) {
        const old = v.some((x) => x.startsWith('{')) ? undefined : parseKlog(v, observedAt);
        expect(parseKlogText(v, observedAt), file).toEqual(old);
      }
    }
  });

  it('leaves the entries of parseKubeProxyLog as they were on the JSON-logging captures', async () => {
    const logs = (await exampleLogs()).filter((l) => l.lines.some((x) => x.startsWith('{')));
    expect(logs.length).toBeGreaterThan(2);
    for (const { file, lines } of logs) {
      const parsed = parseKubeProxyLog(lines, observedAt);
      expect(parsed.format, file).not.toBe('klog');
      expect(parsed.entries.length, file).toBeGreaterThan(0);
    }
  });
});

describe('the klog clock: the last month kept is the month a fresh clock computes', () => {
  it('on lines that go back and forth across months and New Year, or stay in one, observed on January 1', () => {
    const lines = [
      'I1231 23:59:59.999999 1 a.go:1] December, the year before',
      'I0101 00:00:01.000001 1 a.go:1] January',
      'I1231 23:59:58.5 1 a.go:1] December again',
      'I0228 10:00:00.1 1 a.go:1] February, in the future: the year before',
      'I0101 00:10:00.12 1 a.go:1] January again',
      'I1301 00:00:00.0 1 a.go:1] month 13',
      'I0101 00:20:00.123 1 a.go:1] January once more',
      'I0102 08:00:00.456 1 a.go:1] January, the next line too',
      'W0131 23:59:59.999 1 a.go:1] and the next',
    ];
    for (const at of [new Date('2025-01-01T00:30:00Z'), new Date('2024-03-01T00:00:00Z'), observedAt]) {
      const one = lines.map((l) => parseKlogLine(l, at));
      expect(parseKlog(lines, at)).toEqual(one);
    }
  });
});

/** splitErrors as it was, with predicates. */
function splitByPredicates(lines: readonly KlogLine[], isError: RegExp, isSuccess: RegExp) {
  let lastSuccessIndex = -1;
  for (let i = lines.length - 1; i >= 0; i--)
    if (isSuccess.test((lines[i] as KlogLine).message)) {
      lastSuccessIndex = i;
      break;
    }
  const current: KlogLine[] = [];
  const history: KlogLine[] = [];
  lines.forEach((line, i) => {
    if (isError.test(line.message)) (i > lastSuccessIndex ? current : history).push(line);
  });
  return { current, history, lastSuccess: lastSuccessIndex >= 0 ? lines[lastSuccessIndex] : undefined };
}

describe('log scans by pattern: the lines the predicate forms find', () => {
  // The patterns of src/checks/api-connectivity.ts and src/checks/proxy-mode.ts.
  const listWatchFailure =
    /[Ff]ailed to (?:list|watch) \*v1(?:beta1)?\.(?:Service|EndpointSlice|Endpoints|Node|ServiceCIDR)|"Failed to watch"|Failed to retrieve node info/;
  const recovered = /Caches are synced/;
  const configError =
    /failed validate|failed complete|Invalid value|Error running ProxyServer|unknown proxy mode|strict decoding error|"command failed"/i;

  it('on every example log', async () => {
    let errors = 0;
    let recoveries = 0;
    let configErrors = 0;
    for (const { file, lines } of await exampleLogs()) {
      const entries = parseKubeProxyLog(lines, observedAt).entries;
      const split = splitErrors(entries, listWatchFailure, recovered);
      expect(split, file).toEqual(splitByPredicates(entries, listWatchFailure, recovered));
      errors += split.current.length + split.history.length;
      if (split.lastSuccess) recoveries++;
      const found = firstMatching(entries, configError);
      expect(found, file).toBe(entries.find((l) => configError.test(l.message)));
      if (found) configErrors++;
    }
    expect(errors).toBeGreaterThan(5);
    expect(recoveries).toBeGreaterThan(20);
    expect(configErrors).toBeGreaterThan(3);
  });
});
