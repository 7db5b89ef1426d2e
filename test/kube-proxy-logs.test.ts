/**
 * kube-proxy logs as kube-proxy prints them: klog multi-line values and the
 * component-base JSON format. Lines are quoted from real logs (sources named).
 */
import { describe, expect, it } from 'vitest';
import { klogValue, parseKlog } from '../src/cluster/parse/klog.js';
import { parseJsonLogLine, parseKubeProxyLog } from '../src/cluster/parse/kube-proxy-log.js';

const observed = new Date('2026-02-17T12:00:00Z');

describe('klog multi-line values', () => {
  // kubernetes/kube-proxy#25 (journald prefix removed: this is what `kubectl logs` prints).
  const xorMark = [
    'E0217 11:12:14.212635    9234 proxier.go:1432] "Failed to execute iptables-restore" err=<',
    '\texit status 2: ip6tables-restore v1.8.7 (nf_tables): unknown option "--xor-mark"',
    '\tError occurred at line: 11',
    "\tTry `ip6tables-restore -h' or 'ip6tables-restore --help' for more information.",
    ' >',
    'I0217 11:12:14.212698    9234 proxier.go:810] "Sync failed" retryingTime="30s"',
  ];

  it('joins the tab-indented lines to their entry (kubernetes/kube-proxy#25)', () => {
    const entries = parseKlog(xorMark, observed);
    expect(entries).toHaveLength(2);
    expect(entries[0]?.message).toContain('unknown option "--xor-mark"');
    expect(entries[0]?.message).toContain('Error occurred at line: 11');
    expect(entries[0]?.raw).toContain('ip6tables-restore --help');
    expect(klogValue(entries[0]?.message ?? '', 'err')).toMatch(/^exit status 2: .*for more information\.$/);
    expect(entries[1]?.message).toBe('"Sync failed" retryingTime="30s"');
  });

  it('keeps the xtables-lock text and the key/values after " >" (k3s-io/k3s#11098)', () => {
    const entries = parseKlog(
      [
        'E1012 13:47:04.628717  268531 proxier.go:1447] "Failed to execute iptables-restore" err=<',
        '\texit status 4: Ignoring deprecated --wait-interval option.',
        "\tCan't lock /run/xtables.lock: Resource temporarily unavailable",
        '\tAnother app is currently holding the xtables lock. Stopped waiting after 5s.',
        ' > rules=<',
        '\t*nat',
        '\t:KUBE-SERVICES - [0:0]',
        ' >',
      ],
      new Date('2024-10-12T14:00:00Z'),
    );
    expect(entries).toHaveLength(1);
    expect(entries[0]?.message).toMatch(/xtables lock\. Stopped waiting after 5s\. > rules=< \*nat/);
    expect(klogValue(entries[0]?.message ?? '', 'err')).toContain("Can't lock /run/xtables.lock");
  });

  it('does not join tab-indented text outside a multi-line value', () => {
    const entries = parseKlog(
      ['I0217 11:12:14.212635    9234 x.go:1] "one"', '\tstray', 'goroutine 1 [running]:'],
      observed,
    );
    expect(entries.map((e) => e.message)).toEqual(['"one"']);
  });
});

describe('--logging-format=json (k8s.io/component-base/logs/json)', () => {
  it('reads ts (epoch ms), caller, msg, v and err into klog-shaped entries', () => {
    const info = parseJsonLogLine(
      '{"ts":1771326734212.635,"caller":"iptables/proxier.go:799","msg":"SyncProxyRules complete","v":2,"elapsed":"38.805737ms"}',
    );
    expect(info).toMatchObject({
      severity: 'I',
      source: 'iptables/proxier.go:799',
      message: '"SyncProxyRules complete" elapsed="38.805737ms"',
    });
    expect(info?.time.toISOString()).toBe('2026-02-17T11:12:14.212Z');
    const error = parseJsonLogLine(
      '{"ts":1771326734212.635,"caller":"iptables/proxier.go:1432","msg":"Failed to execute iptables-restore","err":"exit status 4: Another app is currently holding the xtables lock. Stopped waiting after 5s.\\n"}',
    );
    expect(error?.severity).toBe('E');
    expect(error?.message).toMatch(
      /^"Failed to execute iptables-restore" err="exit status 4: .*xtables lock/,
    );
    expect(klogValue(error?.message ?? '', 'err')).toContain('Stopped waiting after 5s.');
  });

  it('a log of JSON lines is read as JSON; klog lines before the switch are kept in order', () => {
    const log = parseKubeProxyLog(
      [
        'I0217 11:12:10.000000       1 flags.go:64] FLAG: --logging-format="json"',
        '{"ts":1771326734212.635,"caller":"app/server.go:872","msg":"Version info","v":0,"version":"v1.30.9"}',
      ],
      observed,
    );
    expect(log.format).toBe('mixed');
    expect(log.entries.map((e) => e.message)).toEqual([
      'FLAG: --logging-format="json"',
      '"Version info" version="v1.30.9"',
    ]);
  });

  it('a log in no known format has no entries and says so', () => {
    const log = parseKubeProxyLog(['2026-02-17T11:12:14Z level=info msg="hello"'], observed);
    expect(log).toEqual({ entries: [], format: 'unknown', lines: 1 });
  });
});
