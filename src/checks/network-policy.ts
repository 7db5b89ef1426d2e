import type { NetworkPolicy, Pod, Service } from '../cluster/kube-types.js';
import { matchesLabelSelector } from '../cluster/selectors.js';
import { admitsPort, admittedPeers } from './lib/policy-eval.js';
import { serviceRef, serviceUnavailable, targetService } from './lib/service.js';
import { clientVerdict } from './network-policy-client.js';
import type { Check } from './types.js';
import { finding } from './types.js';

/**
 * NetworkPolicies that select the backend pods for Ingress. With the failing client named
 * (`--from`), the verdict is decisive for it: which policy denies it (ingress of the
 * backends or egress of the client) and which peers it admits. Without it, kproxy can
 * prove a deny only when no rule admits the target port from anywhere; rules that admit
 * some peers are reported with those peers, not blamed.
 */
export const networkPolicy: Check = {
  id: 'network-policy.ingress',
  domain: 'network-policy',
  title: 'NetworkPolicies admit traffic to the backends',
  run(view, facts) {
    const unavailable = serviceUnavailable(view);
    if (unavailable) return finding(this, unavailable.status, unavailable.summary);
    if (view.networkPolicies.state === 'missing')
      return finding(this, 'unknown', `cannot read NetworkPolicies: ${view.networkPolicies.reason}`);
    if (facts.selectedPods.state === 'missing')
      return finding(this, 'unknown', `pods unknown: ${facts.selectedPods.reason}`);
    const pods = facts.selectedPods.value;
    if (pods.length === 0) return finding(this, 'skip', 'no selected pods');
    const service = targetService(view) as Service;
    if (view.client) {
      if (view.client.state === 'missing') return finding(this, 'unknown', view.client.reason);
      return clientVerdict(
        this,
        view.client.value,
        pods,
        view.networkPolicies.value,
        resolveTargetPorts(service, pods),
        serviceRef(view),
      );
    }
    const applying = view.networkPolicies.value.filter(
      (p) =>
        appliesToIngress(p) &&
        pods.some((pod) => matchesLabelSelector(pod.metadata.labels, p.spec.podSelector)),
    );
    if (applying.length === 0)
      return finding(this, 'pass', 'no NetworkPolicy restricts ingress to the backend pods');
    const evidence = applying.map(describePolicy);
    const targetPorts = resolveTargetPorts(service, pods);
    const admitting = applying
      .flatMap((p) => p.spec.ingress ?? [])
      .filter((rule) => admitsPort(rule.ports ?? [], targetPorts));
    if (admitting.length === 0) {
      const names = applying.map((p) => p.metadata.name).join(', ');
      const what = applying.every((p) => (p.spec.ingress ?? []).length === 0)
        ? 'deny all ingress'
        : `admit no traffic to port(s) ${[...targetPorts].join(', ')}`;
      return finding(this, 'fail', `NetworkPolicy ${names} ${what} to the backend pods`, {
        evidence,
        suspect: {
          category: 'network_policy',
          score: 0.8,
          detail: `NetworkPolicy ${names} selects the backend pods and ${what}`,
          nodes: [],
        },
      });
    }
    const open = admitting.some((r) => (r.from ?? []).length === 0);
    if (open)
      return finding(
        this,
        'pass',
        `${applying.length} NetworkPolic(ies) admit the Service port from any source`,
        { evidence },
      );
    const peers = admittedPeers(applying, targetPorts);
    return finding(
      this,
      'warn',
      `${applying.length} NetworkPolic(ies) admit the Service port only from ${peers.join('; ')}; other clients are denied (name the failing client with --from to decide)`,
      { evidence },
    );
  },
};

function appliesToIngress(policy: NetworkPolicy): boolean {
  const types = policy.spec.policyTypes;
  return !types || types.length === 0 || types.includes('Ingress');
}

function describePolicy(policy: NetworkPolicy): string {
  const rules = policy.spec.ingress ?? [];
  const selector = JSON.stringify(policy.spec.podSelector.matchLabels ?? {});
  if (rules.length === 0)
    return `NetworkPolicy ${policy.metadata.namespace}/${policy.metadata.name}: podSelector ${selector}, policyTypes [${(policy.spec.policyTypes ?? ['Ingress']).join(', ')}], ingress: [] (deny all)`;
  const text = rules
    .map(
      (r) =>
        `from ${(r.from ?? []).length ? JSON.stringify(r.from) : 'anywhere'} ports ${(r.ports ?? []).length ? (r.ports ?? []).map((p) => `${p.port ?? '*'}/${p.protocol ?? 'TCP'}`).join(',') : 'all'}`,
    )
    .join('; ');
  return `NetworkPolicy ${policy.metadata.namespace}/${policy.metadata.name}: podSelector ${selector}, ingress ${text}`;
}

/** Container port numbers and names the Service forwards to. */
function resolveTargetPorts(service: Service, pods: readonly Pod[]): Set<string> {
  const out = new Set<string>();
  for (const port of service.spec.ports ?? []) {
    const target = port.targetPort ?? port.port;
    out.add(String(target));
    for (const pod of pods) {
      for (const c of pod.spec.containers) {
        for (const cp of c.ports ?? []) {
          if (cp.name === target || cp.containerPort === target) {
            out.add(String(cp.containerPort));
            if (cp.name) out.add(cp.name);
          }
        }
      }
    }
  }
  return out;
}
