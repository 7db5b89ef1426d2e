/** What a check is and what it returns. */
import type { ClusterView } from '../cluster/view.js';
import type { Facts } from './lib/facts.js';

export const rootCauseCategories = [
  'no_endpoints',
  'pod_crash',
  'api_connectivity',
  'iptables_sync',
  'ipvs_modules',
  'stale_endpoints',
  'version_skew',
  'service_config',
  'conntrack',
  'dns',
  'network_policy',
  'node_network',
  'ingress',
  'load_balancer',
  'none',
  'inconclusive',
] as const;

export type RootCauseCategory = (typeof rootCauseCategories)[number];
/** `none`: the data shows no fault. `inconclusive`: the data to decide is missing. */
export type FaultCategory = Exclude<RootCauseCategory, 'none' | 'inconclusive'>;

/**
 * `unknown`: the data needed was not collected or not readable; never a pass.
 * `skip`: the check does not apply (IPVS checks in iptables mode) or the SOP order
 * stopped before it. `info`: context, not a verdict (the timeline).
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'unknown' | 'skip' | 'info';

/** Failure domains, in the order the report groups them. */
export const failureDomains = [
  'service',
  'endpoints',
  'nodes',
  'kube-proxy',
  'api-connectivity',
  'rule-sync',
  'ipvs',
  'dataplane',
  'conntrack',
  'dns',
  'network-policy',
  'cni',
  'probe',
  'north-south',
  'timeline',
] as const;
export type FailureDomain = (typeof failureDomains)[number];

/** A root-cause candidate a failing finding points at. */
export interface Suspect {
  readonly category: FaultCategory;
  /** Confidence 0..1 that this is the cause; the engine ranks by it. */
  readonly score: number;
  readonly detail: string;
  readonly nodes: readonly string[];
}

export interface NodeVerdict {
  readonly status: CheckStatus;
  readonly summary: string;
}

export interface Finding {
  readonly check: string;
  readonly domain: FailureDomain;
  readonly status: CheckStatus;
  readonly summary: string;
  /** Quotes of the object field, log line or rule each conclusion came from. */
  readonly evidence: readonly string[];
  /** Per-node verdicts, for checks that look at nodes one by one. */
  readonly nodes?: Readonly<Record<string, NodeVerdict>>;
  readonly suspect?: Suspect;
}

export interface Check {
  readonly id: string;
  readonly domain: FailureDomain;
  readonly title: string;
  run(view: ClusterView, facts: Facts): Finding;
}

/** Shorthand constructors so checks read as their verdicts. */
export function finding(
  check: Pick<Check, 'id' | 'domain'>,
  status: CheckStatus,
  summary: string,
  extra: { evidence?: readonly string[]; nodes?: Record<string, NodeVerdict>; suspect?: Suspect } = {},
): Finding {
  return {
    check: check.id,
    domain: check.domain,
    status,
    summary,
    evidence: extra.evidence ?? [],
    ...(extra.nodes && Object.keys(extra.nodes).length > 0 ? { nodes: extra.nodes } : {}),
    ...(extra.suspect ? { suspect: extra.suspect } : {}),
  };
}

/** The worst status of several (per-node verdicts rolled up into one). */
export function worstStatus(statuses: Iterable<CheckStatus>): CheckStatus {
  const order: CheckStatus[] = ['fail', 'unknown', 'warn', 'pass', 'info', 'skip'];
  let worst: CheckStatus = 'skip';
  for (const s of statuses) if (order.indexOf(s) < order.indexOf(worst)) worst = s;
  return worst;
}
