import type { Pod, Service, ServicePort } from '../cluster/kube-types.js';
import { isHeadless, serviceRef, serviceUnavailable, targetService } from './lib/service.js';
import type { Check } from './types.js';
import { finding } from './types.js';

/**
 * port/targetPort against the backends' container ports (numbers and names): the
 * classic "direct pod IP works, Service does not".
 */
export const servicePorts: Check = {
  id: 'service.ports',
  domain: 'service',
  title: 'Service targetPort matches container ports',
  run(view, facts) {
    const unavailable = serviceUnavailable(view);
    if (unavailable) return finding(this, unavailable.status, unavailable.summary);
    const service = targetService(view) as Service;
    if (facts.selectedPods.state === 'missing')
      return finding(this, 'unknown', `pods unknown: ${facts.selectedPods.reason}`);
    const pods = facts.selectedPods.value;
    if (pods.length === 0) return finding(this, 'skip', 'no selected pods to compare against');
    const ports = service.spec.ports ?? [];
    if (ports.length === 0 && !isHeadless(service)) {
      return finding(this, 'fail', 'the Service declares no ports', {
        suspect: {
          category: 'service_config',
          score: 0.8,
          detail: `Service ${serviceRef(view)} declares no ports`,
          nodes: [],
        },
      });
    }
    const problems: string[] = [];
    const evidence: string[] = [];
    const notes: string[] = [];
    for (const port of ports) {
      const verdict = checkPort(port, pods);
      if (verdict.problem) problems.push(verdict.problem);
      if (verdict.note) notes.push(verdict.note);
      evidence.push(verdict.evidence);
    }
    if (problems.length > 0) {
      return finding(this, 'fail', problems.join('; '), {
        evidence,
        suspect: {
          category: 'service_config',
          score: 0.85,
          detail: `port mismatch on ${serviceRef(view)}: ${problems.join('; ')}`,
          nodes: [],
        },
      });
    }
    if (notes.length > 0) return finding(this, 'warn', notes.join('; '), { evidence });
    return finding(this, 'pass', `every Service port maps to a container port`, { evidence });
  },
};

function checkPort(
  port: ServicePort,
  pods: readonly Pod[],
): { problem?: string; note?: string; evidence: string } {
  const target = port.targetPort ?? port.port;
  const label = `port ${port.name ? `${port.name} ` : ''}${port.port} → targetPort ${target}`;
  const containerPorts = pods.flatMap((p) =>
    p.spec.containers.flatMap((c) =>
      (c.ports ?? []).map((cp) => ({ pod: p.metadata.name, container: c.name, ...cp })),
    ),
  );
  const declared = [
    ...new Set(
      containerPorts.map(
        (cp) => `${cp.name ? `${cp.name}=` : ''}${cp.containerPort}/${cp.protocol ?? 'TCP'}`,
      ),
    ),
  ].join(', ');
  const evidence = `${label}; containers declare [${declared || 'no ports'}]`;
  const protocol = port.protocol ?? 'TCP';
  if (typeof target === 'string') {
    const podsWithName = pods.filter((p) =>
      p.spec.containers.some((c) => (c.ports ?? []).some((cp) => cp.name === target)),
    );
    if (podsWithName.length === 0)
      return { problem: `${label}: no container port is named "${target}"`, evidence };
    if (podsWithName.length < pods.length) {
      return {
        note: `${label}: only ${podsWithName.length} of ${pods.length} pods name a port "${target}"`,
        evidence,
      };
    }
    return { evidence };
  }
  if (containerPorts.length === 0)
    return { note: `${label}: containers declare no ports, cannot verify`, evidence };
  const match = containerPorts.some(
    (cp) => cp.containerPort === target && (cp.protocol ?? 'TCP') === protocol,
  );
  if (!match)
    return {
      problem: `${label}: no container listens on ${target}/${protocol} (declared: ${declared})`,
      evidence,
    };
  return { evidence };
}
