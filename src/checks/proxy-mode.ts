import { firstMatching } from './lib/log-history.js';
import type { Check } from './types.js';
import { finding } from './types.js';

const configErrorPattern =
  /failed validate|failed complete|Invalid value|Error running ProxyServer|unknown proxy mode|strict decoding error|"command failed"/i;

/** The proxy mode from the ConfigMap, /proxyMode and the startup log, and configuration errors. */
export const proxyMode: Check = {
  id: 'kube-proxy.mode',
  domain: 'kube-proxy',
  title: 'Proxy mode and configuration',
  run(view, facts) {
    const mode = facts.mode;
    const evidence = [...mode.evidence];
    const configured = mode.configuration;
    if (configured.error) {
      return finding(this, 'fail', `kube-proxy ConfigMap does not parse: ${configured.error}`, {
        evidence,
        suspect: {
          category: 'pod_crash',
          score: 0.6,
          detail: `kube-proxy configuration does not parse: ${configured.error}`,
          nodes: [],
        },
      });
    }
    const configLines = configErrorLines(view, facts);
    evidence.push(...configLines.map((l) => l.text));
    const fatal = configLines.filter((l) => !/lenient decoding/.test(l.text));
    if (configured.mode === 'unknown') {
      return finding(
        this,
        'fail',
        `configured mode "${configured.raw}" is not one of iptables, ipvs, nftables`,
        {
          evidence,
          suspect: {
            category: 'pod_crash',
            score: 0.7,
            detail: `invalid kube-proxy mode "${configured.raw}" in its ConfigMap`,
            nodes: [],
          },
        },
      );
    }
    const observed = new Set([...mode.perNode.values()].map((v) => v.mode));
    if (configured.mode && observed.size > 0 && !observed.has(configured.mode)) {
      const running = [...observed].join(', ');
      const ipvsFallback = configured.mode === 'ipvs';
      return finding(
        this,
        ipvsFallback ? 'fail' : 'warn',
        `configured mode ${configured.mode} but kube-proxy runs ${running}`,
        {
          evidence,
          ...(ipvsFallback
            ? {
                suspect: {
                  category: 'ipvs_modules' as const,
                  score: 0.8,
                  detail: `IPVS configured but kube-proxy fell back to ${running}: IPVS is not usable on the nodes`,
                  nodes: [...mode.perNode.keys()],
                },
              }
            : {}),
        },
      );
    }
    if (observed.size > 1)
      return finding(this, 'warn', `nodes disagree on the proxy mode: ${[...observed].join(', ')}`, {
        evidence,
      });
    if (fatal.length > 0)
      return finding(this, 'warn', `mode ${mode.mode}; configuration errors in kube-proxy logs`, {
        evidence,
      });
    if (mode.mode === 'unknown')
      return finding(
        this,
        'unknown',
        'proxy mode unknown: no ConfigMap, /proxyMode capture or startup log line',
        { evidence },
      );
    const sources = [
      configured.mode ? 'ConfigMap' : undefined,
      mode.perNode.size > 0 ? `${mode.perNode.size} node(s)` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    return finding(this, 'pass', `mode ${mode.mode} (${sources})`, { evidence });
  },
};

function configErrorLines(
  view: Parameters<Check['run']>[0],
  facts: Parameters<Check['run']>[1],
): { text: string }[] {
  const out: { text: string }[] = [];
  for (const pod of view.kubeProxy.logs.keys()) {
    for (const which of ['current', 'previous'] as const) {
      const log = facts.kubeProxyLog(pod, which);
      if (log.state === 'missing') continue;
      const line = firstMatching(log.value, configErrorPattern);
      if (line) out.push({ text: `${pod}${which === 'previous' ? ' previous' : ''} log: ${line.raw}` });
    }
    if (out.length >= 3) break;
  }
  return out;
}
