/**
 * Logs and node captures as the checks may trust them: a log with no readable entry and a
 * capture that is empty or a shell's error are "missing" (with how to collect them), never
 * "no failures" or "no rules".
 */
import type { Collected } from '../../cluster/collected.js';
import { mapCollected } from '../../cluster/collected.js';
import { parseHealthz } from '../../cluster/parse/healthz.js';
import { parseIptablesSave } from '../../cluster/parse/iptables.js';
import { parseIpvsadm } from '../../cluster/parse/ipvsadm.js';
import type { KlogLine } from '../../cluster/parse/klog.js';
import { parseKubeProxyLog } from '../../cluster/parse/kube-proxy-log.js';
import { parseNftRuleset } from '../../cluster/parse/nft.js';
import { parsePrometheus } from '../../cluster/parse/prometheus.js';
import type { NodeCaptures } from '../../cluster/view.js';
import type { ParsedCaptures } from './facts.js';

/**
 * A log with no entry kproxy can read (empty, or in a format it does not know) says
 * nothing about failures: it is `unknown`, never "no failures".
 */
export function readableLog(
  pod: string,
  which: 'current' | 'previous',
  lines: readonly string[],
  observedAt: Date,
): Collected<readonly KlogLine[]> {
  const parsed = parseKubeProxyLog(lines, observedAt);
  if (parsed.entries.length > 0) return { state: 'collected', value: parsed.entries };
  const name = `the ${which === 'previous' ? 'previous ' : ''}log of kube-system/${pod}`;
  return {
    state: 'missing',
    reason:
      parsed.lines === 0
        ? `${name} is empty`
        : `unreadable: ${name} has ${parsed.lines} line(s) in no format kproxy reads (klog text or --logging-format=json); collect it with kubectl -n kube-system logs ${pod}${which === 'previous' ? ' --previous' : ''}`,
  };
}

/** What a shell prints instead of a capture when the tool is absent or not allowed to run. */
const shellFailure =
  /command not found|executable file not found|No such file or directory|Permission denied|Operation not permitted|you must be root/i;

/**
 * A capture that is empty or holds a shell's error is not "no rules": it is unreadable,
 * and the checks that need it say `unknown`, with how to collect it.
 */
function readableCapture(
  raw: Collected<string>,
  file: string,
  node: string,
  how: string,
  isContent: (text: string) => boolean,
): Collected<string> {
  if (raw.state === 'missing') return raw;
  const text = raw.value.trim();
  const path = `nodes/${node}/${file}`;
  if (text === '')
    return { state: 'missing', reason: `unreadable: ${path} is empty; collect it with ${how} on the node` };
  if (!isContent(text) && shellFailure.test(text))
    return {
      state: 'missing',
      reason: `unreadable: ${path} holds "${text.split('\n')[0]?.slice(0, 120)}"; collect it with ${how} as root on the node (or --node-captures debug-pod)`,
    };
  return raw;
}

/**
 * Each capture is parsed when a check first reads it: the blast radius looks at other
 * nodes' healthz and metrics, and must not pay for parsing their (large) rule dumps.
 */
export function parseCaptures(raw: NodeCaptures, node: string): ParsedCaptures {
  const rules = (field: Collected<string>, file: string, how: string) =>
    readableCapture(field, file, node, how, (t) => /^\*(nat|filter|mangle|raw)$/m.test(t));
  const nft = once(() =>
    readableCapture(raw.nft, 'nft.txt', node, 'nft list ruleset', (t) => /^table /m.test(t)),
  );
  const healthz = once(() => mapCollected(raw.healthz, parseHealthz));
  const metrics = once(() => mapCollected(raw.metrics, parsePrometheus));
  const iptables = once(() =>
    mapCollected(rules(raw.iptablesSave, 'iptables-save.txt', 'iptables-save'), parseIptablesSave),
  );
  const ip6tables = once(() =>
    mapCollected(rules(raw.ip6tablesSave, 'ip6tables-save.txt', 'ip6tables-save'), parseIptablesSave),
  );
  const ipvs = once(() =>
    mapCollected(
      readableCapture(raw.ipvsadm, 'ipvsadm.txt', node, 'ipvsadm -Ln', (t) =>
        /IP Virtual Server version/.test(t),
      ),
      parseIpvsadm,
    ),
  );
  const nft4 = once(() => mapCollected(nft(), (t) => parseNftRuleset(t, 'ip')));
  const nft6 = once(() => mapCollected(nft(), (t) => parseNftRuleset(t, 'ip6')));
  return {
    get healthz() {
      return healthz();
    },
    get metrics() {
      return metrics();
    },
    get iptables() {
      return iptables();
    },
    get ip6tables() {
      return ip6tables();
    },
    get ipvs() {
      return ipvs();
    },
    get nft() {
      return nft4();
    },
    get nft6() {
      return nft6();
    },
  };
}

function once<T>(compute: () => T): () => T {
  let done = false;
  let value: T | undefined;
  return () => {
    if (!done) {
      value = compute();
      done = true;
    }
    return value as T;
  };
}
