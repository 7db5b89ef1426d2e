import { isPodReady, podProblems, restartCount } from './lib/pods.js';
import { serviceUnavailable } from './lib/service.js';
import type { Check } from './types.js';
import { finding } from './types.js';

/** Health of the pods the Service selects: readiness, restarts, crash states. */
export const backendPods: Check = {
  id: 'backend.pods',
  domain: 'endpoints',
  title: 'Backend pods are healthy',
  run(view, facts) {
    const unavailable = serviceUnavailable(view);
    if (unavailable) return finding(this, unavailable.status, unavailable.summary);
    if (facts.selectedPods.state === 'missing')
      return finding(this, 'unknown', `cannot read pods: ${facts.selectedPods.reason}`);
    const pods = facts.selectedPods.value;
    if (pods.length === 0) return finding(this, 'fail', 'the Service selects no pods');
    const ready = pods.filter(isPodReady);
    const problems = pods.flatMap(podProblems);
    const restarts = pods.filter((p) => restartCount(p) > 0);
    const evidence = [
      ...problems.map((p) => p.evidence),
      ...restarts
        .filter((p) => podProblems(p).length === 0)
        .map((p) => `Pod ${p.metadata.name}: restartCount=${restartCount(p)}`),
    ].slice(0, 12);
    if (ready.length === 0)
      return finding(this, 'fail', `0 of ${pods.length} selected pods Ready`, { evidence });
    if (ready.length < pods.length)
      return finding(this, 'warn', `${ready.length} of ${pods.length} selected pods Ready`, { evidence });
    return finding(this, 'pass', `all ${pods.length} selected pods Running and Ready`, { evidence });
  },
};
