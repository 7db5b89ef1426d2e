import { isPodReady, podProblems } from './lib/pods.js';
import type { Check } from './types.js';
import { finding } from './types.js';

/** CoreDNS health and kube-dns endpoints: names must resolve for clients to find the Service. */
export const dns: Check = {
  id: 'dns.coredns',
  domain: 'dns',
  title: 'Cluster DNS (CoreDNS) serving',
  run(view) {
    const { service, endpointSlices, pods } = view.dns;
    if (service.state === 'missing' && pods.state === 'missing') {
      return finding(
        this,
        'unknown',
        `cannot read kube-dns: ${service.state === 'missing' ? service.reason : ''}`,
      );
    }
    const evidence: string[] = [];
    if (service.state === 'collected' && !service.value) {
      return finding(this, 'fail', 'no kube-dns Service in kube-system', {
        evidence: ['kube-system/kube-dns: not found'],
        suspect: {
          category: 'dns',
          score: 0.8,
          detail: 'the kube-dns Service is missing: no in-cluster name resolves',
          nodes: [],
        },
      });
    }
    let readyEndpoints: number | undefined;
    if (endpointSlices.state === 'collected') {
      readyEndpoints = endpointSlices.value.flatMap((s) =>
        (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false && !e.conditions?.terminating),
      ).length;
      evidence.push(`EndpointSlices kube-system/kube-dns: ${readyEndpoints} ready endpoint(s)`);
    }
    let readyPods: number | undefined;
    if (pods.state === 'collected') {
      readyPods = pods.value.filter(isPodReady).length;
      evidence.push(`CoreDNS pods (k8s-app=kube-dns): ${readyPods} of ${pods.value.length} Ready`);
      for (const pod of pods.value) for (const p of podProblems(pod).slice(0, 1)) evidence.push(p.evidence);
    }
    if (readyEndpoints === 0 || (readyEndpoints === undefined && readyPods === 0)) {
      return finding(this, 'fail', 'CoreDNS has no ready endpoints: in-cluster names do not resolve', {
        evidence: evidence.slice(0, 8),
        suspect: {
          category: 'dns',
          score: 0.8,
          detail:
            'CoreDNS is down (kube-dns has no ready endpoints): names do not resolve while the Service path itself may work',
          nodes: [],
        },
      });
    }
    if (pods.state === 'collected' && readyPods !== undefined && readyPods < pods.value.length) {
      return finding(this, 'warn', `CoreDNS degraded: ${readyPods} of ${pods.value.length} pods Ready`, {
        evidence: evidence.slice(0, 8),
      });
    }
    if (readyEndpoints === undefined && readyPods === undefined)
      return finding(this, 'unknown', 'kube-dns endpoints and CoreDNS pods not collected', { evidence });
    return finding(this, 'pass', 'CoreDNS serving', { evidence });
  },
};
