/**
 * What a report says in words for the on-call engineer reading it at a glance: the fault
 * ("Stale kube-proxy rules on 1 node") instead of the snake_case category, actions as
 * things to do ("Recreate kube-proxy on ip-10-0-2-45"), the runbooks by name, and times
 * instead of epoch seconds.
 * The categories and ids themselves stay in the JSON, YAML and Slack metadata.
 */
import type { ActionId } from '../approvals/actions.js';
import type { FaultCategory } from '../checks/types.js';
import type { Diagnosis, SuggestedAction } from '../engine/diagnosis.js';

const nodes = (n: number) => (n === 1 ? '1 node' : `${n} nodes`);

/** Per category: the fault, and whether "on N nodes" says where. */
const faults: Readonly<Record<FaultCategory, { text: string; perNode: boolean }>> = {
  no_endpoints: { text: 'No ready endpoints behind the Service', perNode: false },
  pod_crash: { text: 'kube-proxy not running', perNode: true },
  api_connectivity: { text: 'kube-proxy cannot reach the API server', perNode: true },
  iptables_sync: { text: 'kube-proxy rule sync failing', perNode: true },
  ipvs_modules: { text: 'IPVS kernel modules missing', perNode: true },
  stale_endpoints: { text: 'Stale kube-proxy rules', perNode: true },
  version_skew: { text: 'kube-proxy version too far from the control plane', perNode: false },
  service_config: { text: 'Service misconfigured', perNode: false },
  conntrack: { text: 'Conntrack table full', perNode: true },
  dns: { text: 'Cluster DNS (CoreDNS) failing', perNode: false },
  network_policy: { text: 'A NetworkPolicy blocks traffic to the backends', perNode: false },
  node_network: { text: 'Node network unavailable', perNode: true },
  ingress: { text: 'Ingress path broken (backend or controller)', perNode: false },
  load_balancer: { text: 'Load balancer not serving the Service', perNode: false },
};

/** "Stale kube-proxy rules on 1 node"; "No fault found". */
export function causeInWords(d: Pick<Diagnosis, 'rootCause'>): string {
  const { category, nodes: affected } = d.rootCause;
  if (category === 'none') return 'No fault found';
  if (category === 'inconclusive') return 'Inconclusive: the data that decides is missing';
  const fault = faults[category];
  return fault.perNode && affected.length > 0 ? `${fault.text} on ${nodes(affected.length)}` : fault.text;
}

const actionVerbs: Readonly<Record<ActionId, string>> = {
  'restart-kube-proxy': 'Restart kube-proxy on every node',
  'delete-kube-proxy-pod': 'Recreate kube-proxy',
  'cordon-node': 'Cordon',
  'update-kube-proxy-addon': 'Update the kube-proxy add-on',
  'drain-node': 'Drain',
  'switch-kube-proxy-mode-ipvs': 'Switch kube-proxy to IPVS mode',
};

/** "Recreate kube-proxy on ip-10-0-2-45", "Drain ip-10-0-2-45": the node's short name. */
export function actionInWords(a: Pick<SuggestedAction, 'id' | 'node'>): string {
  const verb = actionVerbs[a.id];
  if (!a.node) return verb;
  const node = a.node.split('.')[0] as string;
  return a.id === 'cordon-node' || a.id === 'drain-node' ? `${verb} ${node}` : `${verb} on ${node}`;
}

/** The runbooks the SOPs cross-reference, by their titles (shared/sop). */
const runbooks: Readonly<Record<string, string>> = {
  D2: 'kube-proxy iptables/IPVS sync issues',
  D3: 'conntrack exhaustion',
  D5: 'DNS and CoreDNS issues',
  D8: 'kube-proxy failures and Service connectivity',
};

/** "D2 for basic iptables sync issues" → "runbook D2, “kube-proxy iptables/IPVS sync issues”". */
export function runbookInWords(reference: string): string {
  const m = /^(D\d+)\b/.exec(reference);
  const title = m ? runbooks[m[1] as string] : undefined;
  return m && title ? `runbook ${m[1]}, “${title}”` : reference;
}

const isoSeconds = (epoch: number) =>
  `${new Date(epoch * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/**
 * Epoch seconds (kube-proxy's `*_timestamp_seconds` metrics) as times: only numbers right
 * after such a name, so counts are never touched.
 */
export function timesInWords(line: string): string {
  return line.replace(
    /(timestamp_seconds\s+)(\d{9,10})(?:\.\d+)?\b/g,
    (_all, before: string, epoch: string) => `${before}${isoSeconds(Number(epoch))}`,
  );
}
