/**
 * The checks in the runbooks' order. Each phase may stop the diagnosis: the SOPs say
 * to report no ready endpoints, or kube-proxy not running on the affected node, before
 * investigating anything further.
 */
import { apiConnectivity } from './api-connectivity.js';
import { backendPods } from './backend-pods.js';
import { cniAgent } from './cni.js';
import { conntrack } from './conntrack.js';
import { dataplane } from './dataplane.js';
import { dns } from './dns.js';
import { eksNetwork } from './eks-network.js';
import { endpointsReady } from './endpoints-ready.js';
import { ingressBackends } from './ingress-backends.js';
import { ingressController } from './ingress-controller.js';
import { ipvs } from './ipvs.js';
import { kubeProxyPods } from './kube-proxy-pods.js';
import { kubeProxyVersion } from './kube-proxy-version.js';
import { loadBalancer } from './load-balancer.js';
import { networkPolicy } from './network-policy.js';
import { nodeChurn } from './node-churn.js';
import { nodeConditions } from './node-conditions.js';
import { probe } from './probe.js';
import { proxyMode } from './proxy-mode.js';
import { ruleSync } from './rule-sync.js';
import { servicePorts } from './service-ports.js';
import { serviceShape } from './service-shape.js';
import { targetGroups } from './target-groups.js';
import { timeline } from './timeline.js';
import { trafficPolicy } from './traffic-policy.js';
import type { Check, FaultCategory } from './types.js';

export interface Phase {
  readonly name: string;
  readonly checks: readonly Check[];
  /** A failing finding of one of these categories in this phase ends the investigation. */
  readonly stopsOn: readonly FaultCategory[];
}

export const phases: readonly Phase[] = [
  // Runbook 004, outside in (issue 18 §4): a client outside the cluster reaches the load
  // balancer, then the ingress controller and its route, then the Service. Never a stop: the
  // Service behind a broken route is still worth diagnosing. Skipped without a route target
  // or a LoadBalancer Service.
  {
    name: 'North-south: Ingress and LoadBalancer',
    checks: [ingressBackends, ingressController, loadBalancer, targetGroups],
    stopsOn: [],
  },
  { name: 'Service', checks: [serviceShape], stopsOn: ['service_config'] },
  {
    name: 'Triage: endpoints and nodes',
    checks: [endpointsReady, backendPods, nodeConditions],
    stopsOn: ['no_endpoints'],
  },
  // kube-proxy not running is the first stop, whichever domain its crash names.
  {
    name: 'Prerequisite: kube-proxy running',
    checks: [kubeProxyPods],
    stopsOn: ['pod_crash', 'ipvs_modules', 'api_connectivity'],
  },
  { name: '2A kube-proxy version and mode', checks: [kubeProxyVersion, proxyMode], stopsOn: [] },
  { name: '2B API connectivity', checks: [apiConnectivity, eksNetwork], stopsOn: [] },
  { name: '2C/2D rule sync and IPVS', checks: [ruleSync, ipvs], stopsOn: [] },
  { name: '2E Service path', checks: [dataplane, servicePorts, trafficPolicy], stopsOn: [] },
  { name: '2F conntrack', checks: [conntrack], stopsOn: [] },
  { name: 'DNS, NetworkPolicy and CNI', checks: [dns, networkPolicy, cniAgent], stopsOn: [] },
  // The runbooks' decisive test, from where the client stands (opt-in: probe: debug-pod).
  { name: "Client's-eye probe", checks: [probe], stopsOn: [] },
];

/** Always run, even after a stop: node churn and the timeline are context for any root cause. */
export const epilogue: readonly Check[] = [nodeChurn, timeline];

export const allChecks: readonly Check[] = [...phases.flatMap((p) => p.checks), ...epilogue];
