import { matchesServiceSelector } from '../cluster/selectors.js';
import { nearMissesNamed, podProblems, podRef } from './lib/pods.js';
import { serviceRef, serviceUnavailable, targetService } from './lib/service.js';
import type { Check } from './types.js';
import { finding } from './types.js';

const maxListed = 8;

/**
 * SOP prerequisite: does the Service have ready endpoints? If not, that is the root
 * cause ("not a kube-proxy problem"), and this says why: the selector matches no pod,
 * or the selected pods are not Ready (readiness failing).
 */
export const endpointsReady: Check = {
  id: 'endpoints.ready',
  domain: 'endpoints',
  title: 'Service has ready endpoints',
  run(view, facts) {
    const unavailable = serviceUnavailable(view);
    if (unavailable) return finding(this, unavailable.status, unavailable.summary);
    const service = targetService(view);
    if (!service) return finding(this, 'skip', 'no Service');
    if (facts.endpoints.state === 'missing')
      return finding(this, 'unknown', `cannot read EndpointSlices: ${facts.endpoints.reason}`);
    const ref = serviceRef(view);
    const all = facts.endpoints.value;
    const ready = all.filter((e) => e.ready);
    const fqdn = facts.fqdnSlices.map(
      (s) => `EndpointSlice ${s}: addressType FQDN, ignored by kube-proxy (no rules are programmed from it)`,
    );
    if (ready.length > 0) {
      const nodes = [...new Set(ready.map((e) => e.node ?? '?'))].sort();
      // A dual-stack pod is one endpoint with an address in each family's slice.
      const count = (list: readonly { endpoint: string }[]) => new Set(list.map((e) => e.endpoint)).size;
      return finding(
        this,
        'pass',
        `${count(ready)} ready endpoint(s) of ${count(all)} on ${nodes.length} node(s)`,
        {
          evidence: [
            ...ready
              .slice(0, maxListed)
              .map(
                (e) => `EndpointSlice ${ref}: ${e.ip} ready=true node=${e.node ?? '?'} pod=${e.pod ?? '?'}`,
              ),
            ...fqdn,
          ],
        },
      );
    }
    const { why, evidence } = explainNoEndpoints(view, facts);
    return finding(this, 'fail', `no ready endpoints: ${why}`, {
      evidence,
      suspect: {
        category: 'no_endpoints',
        score: 1,
        detail: `Service ${ref} has no ready endpoints: ${why}. Not a kube-proxy problem.`,
        nodes: [],
      },
    });
  },
};

function explainNoEndpoints(
  view: Parameters<Check['run']>[0],
  facts: Parameters<Check['run']>[1],
): { why: string; evidence: string[] } {
  const service = targetService(view);
  const selector = service?.spec.selector ?? {};
  const selectorText = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const evidence: string[] = [];
  if (facts.endpoints.state === 'collected') {
    const notReady = facts.endpoints.value.filter((e) => !e.ready);
    evidence.push(
      ...notReady
        .slice(0, maxListed)
        .map(
          (e) =>
            `EndpointSlice ${serviceRef(view)}: ${e.ip} ready=false${e.terminating ? ' terminating=true' : ''} pod=${e.pod ?? '?'}`,
        ),
    );
    if (facts.endpoints.value.length === 0)
      evidence.push(`EndpointSlices of ${serviceRef(view)}: no endpoints`);
    evidence.push(
      ...facts.fqdnSlices.map((s) => `EndpointSlice ${s}: addressType FQDN, ignored by kube-proxy`),
    );
  }
  if (facts.selectedPods.state === 'missing')
    return { why: `selected pods unknown (${facts.selectedPods.reason})`, evidence };
  const pods = facts.selectedPods.value;
  if (pods.length === 0) {
    const near = nearMisses(view, selector);
    evidence.push(`selector {${selectorText}} matches 0 pods in namespace ${view.target.namespace}`);
    evidence.push(...near);
    return { why: `selector {${selectorText}} matches no pod`, evidence };
  }
  const readinessEvents = readinessFailures(
    view,
    pods.map((p) => p.metadata.name),
  );
  for (const pod of pods.slice(0, maxListed)) for (const p of podProblems(pod)) evidence.push(p.evidence);
  evidence.push(...readinessEvents.slice(0, maxListed));
  const reasons = [...new Set(pods.flatMap((p) => podProblems(p).map((x) => x.reason)))];
  const readiness = readinessEvents.length > 0 ? '; readiness probes failing' : '';
  return {
    why: `${pods.length} pod(s) selected, none Ready${reasons.length ? ` (${reasons.join(', ')})` : ''}${readiness}`,
    evidence,
  };
}

/** Pods that match all but one selector label: the classic typo or relabel. */
function nearMisses(view: Parameters<Check['run']>[0], selector: Record<string, string>): string[] {
  if (view.namespacePods.state === 'missing') return [];
  const keys = Object.keys(selector);
  const out: string[] = [];
  for (const pod of view.namespacePods.value) {
    const labels = pod.metadata.labels ?? {};
    const mismatched = keys.filter((k) => labels[k] !== selector[k]);
    if (mismatched.length === 1 && !matchesServiceSelector(labels, selector)) {
      const k = mismatched[0] as string;
      out.push(
        `Pod ${podRef(pod)} has ${k}=${labels[k] ?? '(unset)'} where the selector wants ${k}=${selector[k]}`,
      );
    }
    if (out.length >= nearMissesNamed) break;
  }
  return out;
}

function readinessFailures(view: Parameters<Check['run']>[0], podNames: string[]): string[] {
  if (view.events.state === 'missing') return [];
  const names = new Set(podNames);
  return view.events.value
    .filter(
      (e) =>
        e.involvedObject.kind === 'Pod' &&
        names.has(e.involvedObject.name ?? '') &&
        e.reason === 'Unhealthy' &&
        /Readiness probe failed/i.test(e.message ?? ''),
    )
    .map(
      (e) =>
        `Event ${e.involvedObject.namespace}/${e.involvedObject.name} ${e.reason} (x${e.count ?? 1}): ${e.message}`,
    );
}
