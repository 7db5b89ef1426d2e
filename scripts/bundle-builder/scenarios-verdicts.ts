/**
 * Example incidents for issue 12 (part A): kube-proxy logs in --logging-format=json, the
 * whole blast radius, a crash's own domain, and inconclusive bundles. Each is built from
 * a base scenario and says where its real lines come from.
 */
import { parseKubeProxyLog } from '../../src/cluster/parse/kube-proxy-log.js';
import { at } from './logs.js';
import { captureOf, collectedAt, kubeProxyPodOf, type Model, nodeNames } from './model.js';
import { type Scenario, scenarios } from './scenarios.js';

/** A scenario whose rendered files are adjusted after rendering (JSON logs, unreadable captures). */
export interface PostRenderScenario extends Scenario {
  postRender?(files: Map<string, string>): void;
}

const [n1, n2, n3] = nodeNames;
const ago = (seconds: number) => at(collectedAt, -seconds);

function base(name: string): Model {
  const s = scenarios.find((x) => x.name === name);
  if (!s) throw new Error(`no scenario ${name}`);
  return s.build();
}

/**
 * A klog text log rewritten as k8s.io/component-base/logs/json writes it: `ts` in epoch
 * milliseconds, `caller`, `msg`, `v` on info entries, `err` on errors, then the key/values.
 */
export function toJsonLog(text: string): string {
  const entries = parseKubeProxyLog(text.split('\n'), new Date(collectedAt)).entries;
  return `${entries
    .map((e) => {
      const { msg, pairs } = splitMessage(e.message);
      const doc: Record<string, unknown> = { ts: e.time.getTime() + 0.123, caller: e.source, msg };
      if (e.severity === 'E' || e.severity === 'F') {
        doc.err = pairs.err ?? '';
        delete pairs.err;
      } else doc.v = 0;
      return JSON.stringify({ ...doc, ...pairs });
    })
    .join('\n')}\n`;
}

function splitMessage(message: string): { msg: string; pairs: Record<string, unknown> } {
  const m = /^"((?:[^"\\]|\\.)*)"(.*)$/.exec(message);
  if (!m) return { msg: message, pairs: {} };
  const pairs: Record<string, unknown> = {};
  const kv = /\s([A-Za-z][\w.-]*)=("(?:[^"\\]|\\.)*"|\[[^\]]*\]|\S+)/g;
  for (const p of (m[2] ?? '').matchAll(kv)) {
    const raw = p[2] ?? '';
    try {
      pairs[p[1] ?? ''] = JSON.parse(raw);
    } catch {
      pairs[p[1] ?? ''] = raw;
    }
  }
  return { msg: JSON.parse(`"${m[1]}"`) as string, pairs };
}

function crashAll(m: Model): void {
  const broken = kubeProxyPodOf(m, n2);
  for (const node of [n1, n3]) {
    const k = kubeProxyPodOf(m, node);
    Object.assign(k, {
      ready: broken.ready,
      restartCount: broken.restartCount,
      state: broken.state,
      lastState: broken.lastState,
      previousLog: broken.previousLog,
    });
    captureOf(m, node).lastSyncAgo = 1500;
  }
}

function crashWith(name: string, lines: { at: number; source: string; message: string }[]): Model {
  const m = base('kube-proxy-crashloop');
  m.scenario = name;
  kubeProxyPodOf(m, n2).previousLog = [
    {
      at: ago(211.3),
      severity: 'I',
      source: 'server.go:872',
      message: `"Version info" version="${m.kubeProxy.binaryVersion}"`,
    },
    ...lines.map((l) => ({ at: ago(l.at), severity: 'E' as const, source: l.source, message: l.message })),
  ];
  return m;
}

export const verdictScenarios: PostRenderScenario[] = [
  {
    name: 'json-logs-xtables-lock',
    summary:
      'The xtables-lock incident with kube-proxy running --logging-format=json (k8s.io/component-base/logs/json field names): the restore failures are read from JSON entries.',
    expected: {
      category: 'iptables_sync',
      nodes: [n2],
      evidence: ['xtables lock', 'ts\\":1795340700020.123'],
    },
    build() {
      const m = base('iptables-xtables-lock');
      m.scenario = 'json-logs-xtables-lock';
      return m;
    },
    postRender(files) {
      for (const [path, content] of files) if (path.endsWith('.log')) files.set(path, toJsonLog(content));
    },
  },
  {
    name: 'crashloop-all-nodes',
    summary:
      'A broken kube-proxy-config ConfigMap rolled out to every node: kube-proxy crash-loops on all three, the runbook escalation "CrashLoopBackOff on all nodes — cluster-wide service outage" (CRITICAL). No DaemonSet restart is offered: it would only re-read the broken ConfigMap.',
    expected: {
      category: 'pod_crash',
      nodes: [n1, n2, n3],
      evidence: ['CrashLoopBackOff on all nodes — cluster-wide service outage', 'failed complete'],
    },
    build() {
      const m = base('kube-proxy-crashloop');
      m.scenario = 'crashloop-all-nodes';
      crashAll(m);
      return m;
    },
  },
  {
    name: 'crashloop-ipvs-modules',
    summary:
      'kube-proxy on the target node exits at start-up because IPVS is unusable (real line: dyrnq/install-docker#24); since 1.26 it no longer falls back to iptables (k/k PR #111806). The crash names its domain: ipvs_modules.',
    expected: { category: 'ipvs_modules', nodes: [n2], evidence: ["can't use the IPVS proxier"] },
    build() {
      const m = crashWith('crashloop-ipvs-modules', [
        {
          at: 211.1,
          source: 'server.go:134',
          message:
            '"Error running ProxyServer" err="can\'t use the IPVS proxier: error getting ipset version, error: exit status 1"',
        },
        {
          at: 211.1,
          source: 'run.go:72',
          message:
            '"command failed" err="can\'t use the IPVS proxier: error getting ipset version, error: exit status 1"',
        },
      ]);
      m.kubeProxy.configMode = 'ipvs';
      m.kubeProxy.scheduler = 'rr';
      return m;
    },
  },
  {
    name: 'crashloop-unauthorized',
    summary:
      'kube-proxy on the target node is rejected by the API server at start-up (Unauthorized, as in minikube#5551) and crash-loops: the crash names its domain, api_connectivity.',
    expected: { category: 'api_connectivity', nodes: [n2], evidence: ['Unauthorized'] },
    build() {
      return crashWith('crashloop-unauthorized', [
        {
          at: 211.2,
          source: 'reflector.go:150',
          message:
            'k8s.io/client-go/informers/factory.go:160: Failed to watch *v1.Service: failed to list *v1.Service: Unauthorized',
        },
        {
          at: 211.15,
          source: 'reflector.go:150',
          message:
            'k8s.io/client-go/informers/factory.go:160: Failed to watch *v1.EndpointSlice: failed to list *v1.EndpointSlice: Unauthorized',
        },
      ]);
    },
  },
  {
    name: 'inconclusive-no-captures',
    summary:
      'Clients fail on the target node, but the bundle has no captures for it (no iptables-save): kube-proxy looks healthy, and the rules that decide cannot be read. INCONCLUSIVE, with what to collect.',
    expected: {
      category: 'inconclusive',
      nodes: [],
      evidence: ['no node captures (iptables-save', 'ip-10-0-2-45.ec2.internal'],
    },
    build() {
      const m = base('healthy');
      m.scenario = 'inconclusive-no-captures';
      m.captureNodes = [n1, n3];
      return m;
    },
  },
  {
    name: 'inconclusive-unreadable-iptables-save',
    summary:
      'The capture of the target node holds the shell error instead of the rules ("iptables-save: command not found"): unreadable, not "no rules". INCONCLUSIVE, never a guessed fault.',
    expected: {
      category: 'inconclusive',
      nodes: [],
      evidence: ['unreadable: nodes/ip-10-0-2-45.ec2.internal/iptables-save.txt holds'],
    },
    build() {
      const m = base('healthy');
      m.scenario = 'inconclusive-unreadable-iptables-save';
      return m;
    },
    postRender(files) {
      files.set(`nodes/${n2}/iptables-save.txt`, 'sh: 1: iptables-save: command not found\n');
    },
  },
];
