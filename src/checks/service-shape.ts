import { describeService, isExternalName, isHeadless, serviceRef } from './lib/service.js';
import type { Check } from './types.js';
import { finding } from './types.js';

/** The target Service exists, and what shape it has (ClusterIP, NodePort, LoadBalancer, headless, ExternalName). */
export const serviceShape: Check = {
  id: 'service.shape',
  domain: 'service',
  title: 'Service exists and its shape',
  run(view) {
    if (!view.target.service)
      return finding(this, 'skip', 'no target Service (cluster-wide kube-proxy health only)');
    if (view.service.state === 'missing')
      return finding(this, 'unknown', `cannot read the Service: ${view.service.reason}`);
    const service = view.service.value;
    const ref = serviceRef(view);
    if (!service) {
      return finding(this, 'fail', `Service ${ref} does not exist`, {
        evidence: [
          `no Service named ${view.target.service} in namespace ${view.target.namespace ?? 'default'}`,
        ],
        suspect: {
          category: 'service_config',
          score: 0.95,
          detail: `Service ${ref} does not exist; clients resolving it get NXDOMAIN`,
          nodes: [],
        },
      });
    }
    const evidence = [describeService(service)];
    if (isExternalName(service)) {
      return finding(
        this,
        'fail',
        `${ref} is an ExternalName Service: a DNS CNAME to ${service.spec.externalName}, not proxied by kube-proxy`,
        {
          evidence,
          suspect: {
            category: 'service_config',
            score: 0.9,
            detail: `ExternalName Service resolves to ${service.spec.externalName} by DNS CNAME; kube-proxy programs nothing for it, so failures are resolution or reachability of ${service.spec.externalName}`,
            nodes: [],
          },
        },
      );
    }
    if (isHeadless(service)) {
      return finding(
        this,
        'warn',
        `${ref} is headless (clusterIP: None): no VIP; clients get pod IPs from DNS and kube-proxy programs no rules`,
        { evidence },
      );
    }
    if (!service.spec.selector || Object.keys(service.spec.selector).length === 0) {
      return finding(
        this,
        'warn',
        `${ref} has no selector: its EndpointSlices are managed by hand or by another controller`,
        { evidence },
      );
    }
    const type = service.spec.type ?? 'ClusterIP';
    if (type === 'LoadBalancer' && !(service.status?.loadBalancer?.ingress ?? []).length) {
      return finding(
        this,
        'warn',
        `${ref} is a LoadBalancer with no ingress address yet (provisioning pending or failed)`,
        { evidence },
      );
    }
    return finding(this, 'pass', `${ref} is a ${type} Service with a selector`, { evidence });
  },
};
