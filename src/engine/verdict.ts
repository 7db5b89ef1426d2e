/**
 * Inconclusive is an answer. When the data that decides the Service path is missing or
 * unreadable (no captures for the node, an iptables-save that is empty or a shell error,
 * no Service, logs in no known format) and nothing else shows a fault, the diagnosis says
 * so, with what is missing and how to collect it: never `none`, never a guessed fault.
 */
import type { Finding } from '../checks/types.js';
import type { ClusterView } from '../cluster/view.js';
import { UsageError } from '../errors.js';
import type { Diagnosis, MissingData } from './diagnosis.js';

/** The checks whose verdict decides the Service path, with how to collect their data. */
const deciding: Readonly<Record<string, (t: Diagnosis['target']) => string>> = {
  'service.shape': (t) =>
    `kubectl get service -n ${t.namespace ?? 'NS'} ${t.service ?? 'NAME'} -o json (bundle: namespaces/${t.namespace ?? 'NS'}/services.json)`,
  'endpoints.ready': (t) =>
    `kubectl get endpointslices -n ${t.namespace ?? 'NS'} -l kubernetes.io/service-name=${t.service ?? 'NAME'} -o json (bundle: namespaces/${t.namespace ?? 'NS'}/endpointslices.json)`,
  'kube-proxy.pods': () =>
    'kubectl get pods -n kube-system -l k8s-app=kube-proxy -o json (bundle: namespaces/kube-system/pods.json)',
  'kube-proxy.api': (t) =>
    `kubectl -n kube-system logs <kube-proxy pod on ${t.node ?? 'the node'}> (bundle: logs/kube-system/<pod>/kube-proxy.log)`,
  'kube-proxy.sync': (t) =>
    `the kube-proxy log, and on ${t.node ?? 'the node'}: curl -s localhost:10249/metrics and localhost:10256/healthz (bundle: nodes/<node>/metrics.txt, healthz.json)`,
  'ingress.backends': (t) =>
    `kubectl get ${t.route?.split(' ')[0]?.toLowerCase() ?? 'ingress'} -n ${t.namespace ?? 'NS'} -o json (bundle: namespaces/${t.namespace ?? 'NS'}/ingresses.json or httproutes.json)`,
  'dataplane.rules': (t) =>
    `as root on ${t.node ?? 'the node'}: iptables-save (IPVS: ipvsadm -Ln; nftables: nft list ruleset) into nodes/<node>/iptables-save.txt, ipvsadm.txt or nft.txt, or kproxy diagnose --context … --node ${t.node ?? 'NODE'} --node-captures debug-pod`,
};

/** The deciding checks that could not decide, with how to get what they lack. */
export function missingData(findings: readonly Finding[], target: Diagnosis['target']): MissingData[] {
  return findings
    .filter((f) => f.status === 'unknown' && f.check in deciding)
    .map((f) => {
      // The per-node reasons say which file was unreadable and why.
      const perNode = Object.entries(f.nodes ?? {})
        .filter(([, v]) => v.status === 'unknown')
        .map(([node, v]) => `${node}: ${v.summary}`);
      return {
        check: f.check,
        what: [f.summary, ...perNode].join('; '),
        how: deciding[f.check]?.(target) ?? '',
      };
    });
}

export function inconclusiveDetail(missing: readonly MissingData[]): string {
  return `INCONCLUSIVE: the data that decides the Service path is missing or unreadable, and nothing collected shows a fault — ${missing
    .map((m) => `${m.check}: ${m.what}`)
    .join('; ')}`;
}

export function inconclusiveMitigation(missing: readonly MissingData[]): Diagnosis['mitigation'] {
  return {
    immediate: `Collect what is missing, then diagnose again: ${missing.map((m) => m.how).join('; ')}.`,
    longTerm:
      'Collect incident bundles with kproxy collect (it records what it could not read and why), so every check has its data.',
    // Never a write on a diagnosis that could not decide.
    actions: [],
  };
}

/**
 * A `--node` that names no node of the cluster is a mistake in the request, not a
 * kube-proxy fault on a node that does not exist: refuse it, naming the nodes there are.
 */
export function assertTargetNode(view: ClusterView): void {
  const node = view.target.node;
  if (!node) return;
  const names =
    view.nodeNames?.state === 'collected'
      ? [...view.nodeNames.value].sort()
      : view.nodes.state === 'collected'
        ? view.nodes.value.map((n) => n.metadata.name).sort()
        : undefined;
  if (!names) return;
  if (names.includes(node)) return;
  const shown = names.slice(0, 10).join(', ');
  const more = names.length > 10 ? ` and ${names.length - 10} more` : '';
  throw new UsageError(
    names.length === 0
      ? `node ${node} not found; the cluster lists no nodes`
      : `node ${node} not found; nodes are ${shown}${more}`,
  );
}
