/**
 * NetworkPolicy evaluation for one connection, as the API defines it
 * (k8s.io/api/networking/v1 types.go, NetworkPolicyPeer and NetworkPolicyIngressRule /
 * NetworkPolicyEgressRule): a pod selected by no policy of a direction is open in that
 * direction; otherwise some rule of a selecting policy must admit both the peer and the
 * port. A peer with only `podSelector` means pods of the policy's own namespace, only
 * `namespaceSelector` every pod of the matching namespaces, both together the
 * intersection, and `ipBlock` an address range (evaluated on the pod IP). Pure.
 */
import type { Collected } from '../../cluster/collected.js';
import type { NetworkPolicy } from '../../cluster/kube-types.js';
import { matchesLabelSelector } from '../../cluster/selectors.js';

export type Direction = 'Ingress' | 'Egress';
type Peer = NonNullable<NonNullable<NetworkPolicy['spec']['ingress']>[number]['from']>[number];
type PolicyPort = NonNullable<NonNullable<NetworkPolicy['spec']['ingress']>[number]['ports']>[number];

/** The other end of the connection, as a peer selector sees it. */
export interface Endpoint {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ip: string | undefined;
  readonly namespaceLabels: Collected<Readonly<Record<string, string>>>;
}

export interface Verdict {
  readonly allowed: boolean | undefined;
  /** The policy and rule that admit it, or the policies that select the pod and admit nothing for it. */
  readonly by: readonly string[];
  /** Why the verdict is undefined (namespace labels unknown). */
  readonly unknown?: string;
}

export function policyTypes(policy: NetworkPolicy): string[] {
  const types = policy.spec.policyTypes;
  if (types && types.length > 0) return types;
  // The API's default: Ingress always, Egress when the policy has egress rules.
  return (policy.spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

export function selecting(
  policies: readonly NetworkPolicy[],
  labels: Readonly<Record<string, string>> | undefined,
  direction: Direction,
): NetworkPolicy[] {
  return policies.filter(
    (p) => policyTypes(p).includes(direction) && matchesLabelSelector(labels, p.spec.podSelector),
  );
}

/**
 * Does `direction` traffic between the selected pod (whose policies are `applying`) and
 * `other` on one of `ports` pass? `applying` are the policies that select the pod.
 */
export function evaluate(
  applying: readonly NetworkPolicy[],
  direction: Direction,
  other: Endpoint,
  ports: ReadonlySet<string>,
): Verdict {
  if (applying.length === 0) return { allowed: true, by: [`no ${direction} NetworkPolicy selects the pod`] };
  let unknown: string | undefined;
  for (const policy of applying) {
    const rules = (direction === 'Ingress' ? policy.spec.ingress : policy.spec.egress) ?? [];
    for (const [i, rule] of rules.entries()) {
      if (!admitsPort(rule.ports ?? [], ports)) continue;
      const peers = ('from' in rule ? rule.from : 'to' in rule ? rule.to : undefined) as
        | Peer[]
        | null
        | undefined;
      if (!peers || peers.length === 0)
        return { allowed: true, by: [`${ref(policy)} ${direction.toLowerCase()}[${i}] (any peer)`] };
      for (const peer of peers) {
        const m = peerMatches(peer, policy.metadata.namespace ?? '', other);
        if (m === true)
          return {
            allowed: true,
            by: [`${ref(policy)} ${direction.toLowerCase()}[${i}]: ${describePeer(peer, policy)}`],
          };
        if (m === undefined) unknown ??= `labels of namespace ${other.namespace} unknown`;
      }
    }
  }
  if (unknown) return { allowed: undefined, by: applying.map(ref), unknown };
  return { allowed: false, by: applying.map(ref) };
}

function ref(policy: NetworkPolicy): string {
  return `NetworkPolicy ${policy.metadata.namespace ?? ''}/${policy.metadata.name}`;
}

function peerMatches(peer: Peer, policyNamespace: string, other: Endpoint): boolean | undefined {
  if (peer.ipBlock) return other.ip ? inBlock(other.ip, peer.ipBlock.cidr, peer.ipBlock.except ?? []) : false;
  if (peer.namespaceSelector) {
    if (other.namespaceLabels.state === 'missing') return undefined;
    if (!matchesLabelSelector(other.namespaceLabels.value, peer.namespaceSelector)) return false;
  } else if (other.namespace !== policyNamespace) return false;
  return peer.podSelector ? matchesLabelSelector(other.labels, peer.podSelector) : true;
}

/** What a peer admits, in words: `pods {role=frontend} in app`, `namespaces {team=web}`. */
export function describePeer(peer: Peer, policy: NetworkPolicy): string {
  if (peer.ipBlock)
    return `ipBlock ${peer.ipBlock.cidr}${peer.ipBlock.except?.length ? ` except ${peer.ipBlock.except.join(',')}` : ''}`;
  const sel = (s: Peer['podSelector']) => {
    const parts = [
      ...Object.entries(s?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
      ...(s?.matchExpressions ?? []).map(
        (e) => `${e.key} ${e.operator}${e.values?.length ? ` (${e.values.join(',')})` : ''}`,
      ),
    ];
    return `{${parts.join(',')}}`;
  };
  const pods = peer.podSelector ? `pods ${sel(peer.podSelector)}` : 'all pods';
  if (peer.namespaceSelector) return `${pods} in namespaces ${sel(peer.namespaceSelector)}`;
  return `${pods} in ${policy.metadata.namespace ?? ''}`;
}

/** Every peer the rules of `policies` admit to `ports` ("any peer" when a rule is open). */
export function admittedPeers(policies: readonly NetworkPolicy[], ports: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const policy of policies) {
    for (const rule of policy.spec.ingress ?? []) {
      if (!admitsPort(rule.ports ?? [], ports)) continue;
      if ((rule.from ?? []).length === 0) out.push('any peer');
      for (const peer of rule.from ?? []) out.push(describePeer(peer, policy));
    }
  }
  return [...new Set(out)];
}

export function admitsPort(ports: readonly PolicyPort[], targets: ReadonlySet<string>): boolean {
  if (ports.length === 0) return true;
  return ports.some((p) => {
    if (p.port == null) return true;
    if (targets.has(String(p.port))) return true;
    if (typeof p.port === 'number' && p.endPort)
      return [...targets].some((t) => Number(t) >= (p.port as number) && Number(t) <= (p.endPort as number));
    return false;
  });
}

function inBlock(ip: string, cidr: string, except: readonly string[]): boolean {
  return inCidr(ip, cidr) && !except.some((e) => inCidr(ip, e));
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const a = toBigInt(ip);
  const b = toBigInt(base ?? '');
  if (a === undefined || b === undefined || a.width !== b.width) return false;
  const bits = BigInt(Number(bitsText ?? a.width));
  const shift = BigInt(a.width) - bits;
  return a.value >> shift === b.value >> shift;
}

function toBigInt(ip: string): { value: bigint; width: number } | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip))
    return { value: ip.split('.').reduce((n, o) => (n << 8n) + BigInt(Number(o)), 0n), width: 32 };
  if (!ip.includes(':')) return undefined;
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  if (groups.length !== 8) return undefined;
  return {
    value: groups.reduce((n, g) => (n << 16n) + BigInt(Number.parseInt(g || '0', 16)), 0n),
    width: 128,
  };
}
