/** What to do about a root cause, in the runbooks' remediation order. */
import { type ActionId, actionCatalog } from '../approvals/actions.js';
import { configDecodeError } from '../checks/lib/crash-reason.js';
import type { Finding, RootCauseCategory } from '../checks/types.js';
import type { Diagnosis, SuggestedAction } from './diagnosis.js';

interface MitigationInput {
  readonly category: RootCauseCategory;
  readonly nodes: readonly string[];
  readonly detail: string;
  readonly findings: readonly Finding[];
  readonly target: Diagnosis['target'];
  /** Nodes whose lsmod lacks IPVS modules: switching to IPVS there would break every Service. */
  readonly ipvsModuleGaps?: readonly string[];
}

const maxNodeActions = 3;

function action(id: ActionId, when: string, node?: string): SuggestedAction {
  const spec = actionCatalog[id];
  return { id, safety: spec.safety, description: spec.description, when, ...(node ? { node } : {}) };
}

function perNode(id: ActionId, nodes: readonly string[], when: string): SuggestedAction[] {
  return nodes.slice(0, maxNodeActions).map((n) => action(id, when, n));
}

const longTermDefault =
  'Keep the kube-proxy add-on at the control-plane version, prefer IPVS (or nftables) above ~1,000 Services, and alert on kube-proxy restarts, sync latency and healthz.';

export function mitigationFor(input: MitigationInput): Diagnosis['mitigation'] {
  const { category, nodes, findings, target } = input;
  const nodeText = nodes.length > 0 ? nodes.slice(0, maxNodeActions).join(', ') : 'the affected nodes';
  const svc = target.service ? `${target.namespace}/${target.service}` : 'the Service';
  switch (category) {
    case 'inconclusive':
      return {
        immediate: 'Collect the missing data (see the diagnosis) and diagnose again.',
        longTerm: longTermDefault,
        actions: [],
      };
    case 'none':
      return {
        immediate:
          "No action: kube-proxy and the Service path look healthy in what was collected. If clients still fail, compare curl to the ClusterIP and to a pod IP from the failing client, and collect that node's captures.",
        longTerm: longTermDefault,
        actions: [],
      };
    case 'no_endpoints':
      return {
        immediate: `Fix the backends, not kube-proxy: ${/^(Ingress|HTTPRoute) /.test(input.detail) ? `${input.detail}: make the pods that Service selects Ready, or scale its workload up` : `make the pods selected by ${svc} Ready`} (kubectl get pods -l <selector>; kubectl describe pod for readiness probe failures), or correct the selector/labels.`,
        longTerm:
          'Alert on Services with zero ready endpoints; keep readiness probes honest and selectors under review.',
        actions: [],
      };
    case 'pod_crash':
      return podCrash(input, nodeText);
    case 'api_connectivity': {
      const path = findings.find((f) => f.check === 'eks.network' && f.status === 'fail');
      if (path)
        return {
          // Runbook 000 root causes C and D: revert the network change, not kube-proxy.
          immediate: `Restore the node → API server path (revert the recent security-group, NACL, route or endpoint-access change): ${path.summary}. Then recreate kube-proxy on ${nodeText} so it reconnects and resyncs its rules.`,
          longTerm:
            'Manage the cluster and node security groups, NACLs and endpoint access as code with a review; alert on kube-proxy list/watch errors from every subnet.',
          actions: perNode(
            'delete-kube-proxy-pod',
            nodes,
            'after the path is restored, to force a fresh connection and full resync',
          ),
        };
      return {
        immediate: `kube-proxy on ${nodeText} cannot list/watch the API server: check the node → API endpoint path (security groups on 443, NACLs, private endpoint access) for refused/timeouts, or the kube-proxy service account and its ClusterRoleBinding (system:node-proxier) for Unauthorized/Forbidden. Rules there are stale until it reconnects.`,
        longTerm:
          'Monitor kube-proxy list/watch errors and API server reachability from every subnet; never edit the kube-proxy ClusterRoleBinding by hand.',
        actions: [
          ...perNode(
            'delete-kube-proxy-pod',
            nodes,
            'after the path or credentials are fixed, to force a fresh connection and full resync',
          ),
        ],
      };
    }
    case 'iptables_sync': {
      const explosion = findings.some(
        (f) => f.check === 'kube-proxy.sync' && /rules \(>|take .*s on average/.test(JSON.stringify(f)),
      );
      return {
        immediate: `Rule sync fails on ${nodeText}: find the competing xtables lock holder (CNI or security agents calling iptables without -w), check iptables-restore errors in the kube-proxy log, then recreate kube-proxy there so it resyncs. If it persists, drain and replace the node.`,
        longTerm: `${longTermDefault} Make every iptables user on the node take the xtables lock with a wait.`,
        actions: [
          ...perNode('delete-kube-proxy-pod', nodes, 'first: resync rules on the node'),
          ...perNode('drain-node', nodes, 'if sync failures persist after the restart (node replacement)'),
          ...(explosion
            ? [
                {
                  ...action(
                    'switch-kube-proxy-mode-ipvs',
                    'for rule explosion: off-hours, after loading IPVS modules on every node',
                  ),
                  ...((input.ipvsModuleGaps ?? []).length > 0
                    ? {
                        blockedBy: `IPVS kernel modules are missing (${(input.ipvsModuleGaps ?? []).slice(0, 3).join('; ')}): load them on every node first`,
                      }
                    : {}),
                },
              ]
            : []),
        ],
      };
    }
    case 'ipvs_modules':
      return {
        immediate: `IPVS is not usable on ${nodeText}: load the modules (modprobe ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh nf_conntrack; persist in /etc/modules-load.d/ipvs.conf, or in the node bootstrap), then restart kube-proxy. Or roll the mode back to iptables.`,
        longTerm:
          'Bake the IPVS modules and ipvsadm into the node image before enabling IPVS; verify with ipvsadm -Ln after every mode change.',
        actions: [
          ...perNode('delete-kube-proxy-pod', nodes, 'after the modules are loaded'),
          action('restart-kube-proxy', 'after the modules are loaded on every node'),
        ],
      };
    case 'stale_endpoints':
      return {
        // Decided by the probe alone (no captures to quote): say what it saw, not what rules say.
        immediate: input.detail.endsWith("(client's-eye probe)")
          ? `The Service VIP does not answer from ${nodeText} while every pod IP does: kube-proxy's rules there are missing or wrong. Recreate kube-proxy on the node to force a full resync; if the VIP still fails afterwards, cordon, drain and replace the node (the runbook's decision rule for node-specific blackholes).`
          : `Rules on ${nodeText} point at backends that are gone or miss ready ones: recreate kube-proxy on the node to force a full resync; if the rules are still wrong afterwards, cordon, drain and replace the node (the runbook's decision rule for node-specific blackholes).`,
        longTerm:
          'Limit Service/Endpoint churn, alert on kube-proxy sync errors, and rotate nodes that show rule corruption.',
        actions: [
          ...perNode('delete-kube-proxy-pod', nodes, 'first'),
          ...perNode('cordon-node', nodes, 'if the rules stay stale after the restart'),
          ...perNode('drain-node', nodes, 'if the rules stay stale after the restart: replace the node'),
        ],
      };
    case 'version_skew':
      return {
        immediate:
          "Bring kube-proxy to the control plane's minor version: update the EKS kube-proxy add-on (aws eks update-addon --addon-name kube-proxy --addon-version <matching>) or the DaemonSet image.",
        longTerm:
          'Upgrade kube-proxy (and the other add-ons) with every control-plane upgrade; kube-proxy must never be newer than the API server.',
        actions: [action('update-kube-proxy-addon', 'to the version matching the control plane')],
      };
    case 'service_config':
      return {
        immediate: `Fix ${svc} itself: ${input.detail}`,
        longTerm:
          'Review Service specs in CI (targetPort names against container ports; Local traffic policies only where every node that receives traffic runs a backend).',
        actions: [],
      };
    case 'conntrack':
      return {
        immediate: `The conntrack table is full on ${nodeText}: raise nf_conntrack_max (kube-proxy conntrack.maxPerCore / conntrack.min) and look for the connection leak; move traffic off the node meanwhile.`,
        longTerm:
          'Alert on nf_conntrack_count / nf_conntrack_max above 75%; size conntrack for peak connection rates.',
        actions: [
          ...perNode('cordon-node', nodes, 'to stop new pods landing there'),
          ...perNode('drain-node', nodes, 'if drops continue'),
        ],
      };
    case 'dns':
      return {
        immediate:
          "Restore CoreDNS: check its pods and logs (kubectl -n kube-system logs deploy/coredns), restart the deployment, and test with the Service's FQDN.",
        longTerm:
          'Run CoreDNS with at least two replicas across nodes, a PodDisruptionBudget, and NodeLocal DNSCache.',
        actions: [],
      };
    case 'network_policy':
      return {
        immediate: `A NetworkPolicy denies traffic to the backends of ${svc}: add an ingress rule admitting the clients on the target port (review the policy quoted in the evidence).`,
        longTerm: 'Test NetworkPolicies with the client paths they must allow before rollout.',
        actions: [],
      };
    case 'node_network':
      return {
        immediate: `Node-level networking is broken on ${nodeText} while kube-proxy is healthy: cordon the node, drain it, and let the autoscaler replace it (the runbook's node-replacement rule).`,
        longTerm:
          'Monitor node conditions and CNI agents; rotate nodes periodically to clear accumulated state.',
        actions: [
          ...perNode('cordon-node', nodes, 'first'),
          ...perNode('drain-node', nodes, 'then replace the node'),
        ],
      };
    case 'ingress':
      return {
        immediate: /controller|IngressClass/.test(input.detail)
          ? `Fix the ingress controller, not kube-proxy: ${input.detail}. Read why its pods stop (kubectl logs --previous on a controller pod), fix that, and let its Deployment bring them back.`
          : `Fix the Ingress/HTTPRoute backend, not kube-proxy: ${input.detail}. Name a Service and a port it defines (port.number is the Service's port, port.name its port's name).`,
        longTerm:
          'Validate Ingress backends against Service ports in CI, run the ingress controller with at least two replicas and a PodDisruptionBudget, and alert on its restarts and 5xx.',
        actions: [],
      };
    case 'load_balancer':
      return {
        immediate: `The cloud load balancer does not serve ${svc}: ${input.detail}. Read the Service's events (kubectl describe service), check that spec.loadBalancerClass names a controller that runs, and the controller's log and IAM permissions.`,
        longTerm:
          'Alert on LoadBalancer Services pending for more than a few minutes; pin loadBalancerClass only to controllers every cluster runs.',
        actions: [],
      };
  }
}

function podCrash(input: MitigationInput, nodeText: string): Diagnosis['mitigation'] {
  const { nodes, findings } = input;
  const oom = findings.some((f) => f.check === 'kube-proxy.pods' && /OOMKilled/.test(JSON.stringify(f)));
  const config = findings.some(
    (f) => configDecodeError.test(f.evidence.join('\n')) || /does not parse/.test(f.summary),
  );
  const longTerm = `${longTermDefault} Alert on kube-proxy CrashLoopBackOff.`;
  if (config) {
    // Every kube-proxy pod reads the same ConfigMap: a DaemonSet-wide restart before it is
    // fixed would crash kube-proxy on every node. So: the ConfigMap first, then this pod.
    return {
      immediate: `Fix the kube-proxy ConfigMap first: kube-proxy on ${nodeText} exits on its configuration (see the previous log line quoted). Do not restart the kube-proxy DaemonSet before it is fixed: every pod would read the broken configuration and crash. Then recreate the pod.`,
      longTerm: `${longTerm} Decode KubeProxyConfiguration changes in CI before they reach the ConfigMap, and roll kube-proxy out with maxUnavailable 1.`,
      actions: perNode('delete-kube-proxy-pod', nodes, 'after the ConfigMap is fixed: recreate the pod'),
    };
  }
  const why = oom
    ? 'kube-proxy is OOMKilled: raise its memory limit (large clusters in iptables mode) or move to IPVS.'
    : 'read why it stops (kubectl -n kube-system logs <pod> --previous), fix that, then recreate the pod.';
  return {
    immediate: `kube-proxy is not running on ${nodeText}: ${why}`,
    longTerm,
    actions: [
      ...perNode('delete-kube-proxy-pod', nodes, 'first: recreate the pod on the node'),
      action('restart-kube-proxy', 'when several nodes are affected'),
    ],
  };
}

export const crossReferences: Readonly<Partial<Record<RootCauseCategory, string[]>>> = {
  iptables_sync: ['D2 for basic iptables sync issues'],
  stale_endpoints: ['D2 for basic iptables sync issues'],
  conntrack: ['D3 if conntrack exhaustion contributing to service failures'],
  dns: ['D5 if headless service DNS resolution failing'],
  version_skew: ['I1 if kube-proxy version skew detected'],
};
