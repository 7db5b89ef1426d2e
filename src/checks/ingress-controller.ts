/**
 * Runbook 004: the ingress controller's own health — its pods (`kubectl get pods -n
 * ingress-nginx`) and the recent errors in its log (`kubectl logs -n ingress-nginx
 * deploy/ingress-nginx-controller --tail=100`). The controller is found from the Ingress'
 * class: `spec.ingressClassName` (or the default IngressClass, annotated
 * `ingressclass.kubernetes.io/is-default-class: "true"`) → the IngressClass'
 * `spec.controller` → a controller kproxy knows → its pods by their chart labels.
 */
import type { Pod } from '../cluster/kube-types.js';
import {
  controllerForIngressClass,
  controllerOfPod,
  type KnownController,
} from '../cluster/north-south/controllers.js';
import type { Ingress } from '../cluster/north-south/types.js';
import type { NorthSouthView } from '../cluster/north-south/view.js';
import type { ClusterView } from '../cluster/view.js';
import { pendingControllerLoadBalancer } from './lib/controller-lb.js';
import { errorLines } from './lib/controller-log.js';
import { reconcileFailure } from './lib/ingress-events.js';
import { isPodReady, podProblems, podRef } from './lib/pods.js';
import type { Check, Finding } from './types.js';
import { finding } from './types.js';

/** Errors older than this before the observation are history, not the incident. */
const recentMs = 30 * 60 * 1000;

export const ingressController: Check = {
  id: 'ingress.controller',
  domain: 'north-south',
  title: 'Ingress controller health',
  run(view) {
    const ns = view.northSouth;
    const ref = ns?.routeRef;
    if (!ns || !ref) return finding(this, 'skip', 'no Ingress or HTTPRoute target');
    if (ref.kind === 'HTTPRoute' || ns.route?.state !== 'collected' || ns.route.value?.kind !== 'Ingress')
      return finding(
        this,
        'unknown',
        ref.kind === 'HTTPRoute'
          ? `the Gateway controller of HTTPRoute ${ref.namespace}/${ref.name} is not identified (kproxy knows ingress-nginx and the AWS Load Balancer Controller)`
          : `cannot read Ingress ${ref.namespace}/${ref.name}`,
      );
    const resolved = controllerOf(ns, ns.route.value.object);
    if ('status' in resolved)
      return finding(this, resolved.status, resolved.summary, {
        evidence: resolved.evidence,
        ...(resolved.status === 'fail'
          ? { suspect: { category: 'ingress' as const, score: 0.85, detail: resolved.summary, nodes: [] } }
          : {}),
      });
    return podsVerdict(this, view, ns, resolved.controller, resolved.evidence);
  },
};

type Resolved =
  | { controller: KnownController; evidence: string[] }
  | { status: Finding['status']; summary: string; evidence: string[] };

function controllerOf(ns: NorthSouthView, ingress: Ingress): Resolved {
  const legacy = ingress.metadata.annotations?.['kubernetes.io/ingress.class'];
  if (ns.ingressClasses.state === 'missing')
    return {
      status: 'unknown',
      summary: `cannot read IngressClasses: ${ns.ingressClasses.reason}`,
      evidence: [],
    };
  const classes = ns.ingressClasses.value;
  const name = ingress.spec.ingressClassName ?? undefined;
  const cls = name
    ? classes.find((c) => c.metadata.name === name)
    : legacy
      ? classes.find((c) => c.metadata.name === legacy)
      : classes.find(
          (c) => c.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true',
        );
  if (!cls) {
    if (name)
      return {
        status: 'fail',
        summary: `IngressClass ${name} does not exist: no controller serves this Ingress`,
        evidence: [
          `Ingress spec.ingressClassName: ${name}; IngressClasses: ${classes.map((c) => c.metadata.name).join(', ') || 'none'}`,
        ],
      };
    return {
      status: 'unknown',
      summary: legacy
        ? `Ingress class "${legacy}" (annotation kubernetes.io/ingress.class) names no IngressClass: its controller is not identified`
        : 'the Ingress names no class and no IngressClass is the default: its controller is not identified',
      evidence: [],
    };
  }
  const evidence = [`IngressClass ${cls.metadata.name}: spec.controller ${cls.spec?.controller ?? '(none)'}`];
  const controller = controllerForIngressClass(cls.spec?.controller ?? '');
  if (!controller)
    return {
      status: 'unknown',
      summary: `controller ${cls.spec?.controller ?? '(none)'} of IngressClass ${cls.metadata.name} is not one kproxy knows (ingress-nginx, AWS Load Balancer Controller)`,
      evidence,
    };
  return { controller, evidence };
}

function podsVerdict(
  check: Check,
  view: ClusterView,
  ns: NorthSouthView,
  controller: KnownController,
  evidence: string[],
): Finding {
  if (ns.controllerPods.state === 'missing')
    return finding(check, 'unknown', `cannot read the ${controller.name} pods: ${ns.controllerPods.reason}`, {
      evidence,
    });
  const pods = ns.controllerPods.value.filter((p) => controllerOfPod(p) === controller);
  if (pods.length === 0)
    return finding(check, 'fail', `no ${controller.name} pods run: nothing serves this Ingress`, {
      evidence: [...evidence, `pods labelled ${labelText(controller)}: none`],
      suspect: {
        category: 'ingress',
        score: 0.85,
        detail: `no ${controller.name} controller pods run`,
        nodes: [],
      },
    });
  const down = pods.filter((p) => !isPodReady(p));
  for (const p of down) evidence.push(...podProblems(p).map((x) => x.evidence));
  const errors = recentErrors(view, ns, pods, controller);
  evidence.push(...errors.quotes);
  const summaryLogs = errors.note ? `; ${errors.note}` : '';
  if (down.length === pods.length)
    return finding(
      check,
      'fail',
      `the ${controller.name} controller is down: ${down.length}/${pods.length} pod(s) not Ready${summaryLogs}`,
      {
        evidence,
        suspect: {
          category: 'ingress',
          score: 0.85,
          detail: `the ${controller.name} controller is down (${down.map((p) => `${podRef(p)}: ${podProblems(p)[0]?.reason ?? 'NotReady'}`).join(', ')})${errors.quotes[0] ? `: ${errors.quotes[0]}` : ''}`,
          nodes: [],
        },
      },
    );
  const failure = ns.routeRef ? reconcileFailure(view, ns.routeRef) : undefined;
  if (failure)
    return finding(check, 'fail', `${controller.name} cannot reconcile the Ingress: ${failure}`, {
      evidence: [...evidence, failure],
      suspect: {
        category: 'ingress',
        score: 0.8,
        detail: `the ${controller.name} controller cannot reconcile the Ingress: ${failure}`,
        nodes: [],
      },
    });
  const pendingLb = pendingControllerLoadBalancer(ns, controller, pods);
  if (pendingLb)
    return finding(check, 'fail', pendingLb.summary, {
      evidence: [...evidence, ...pendingLb.evidence],
      suspect: { category: 'load_balancer', score: 0.8, detail: pendingLb.summary, nodes: [] },
    });
  if (down.length > 0 || errors.count > 0)
    return finding(
      check,
      'warn',
      `${controller.name}: ${pods.length - down.length}/${pods.length} pod(s) Ready${errors.count > 0 ? `, ${errors.count} error line(s) in the last 30 min` : ''}${summaryLogs}`,
      { evidence },
    );
  return finding(
    check,
    'pass',
    `${controller.name}: ${pods.length}/${pods.length} pod(s) Ready, no recent errors in its log${summaryLogs}`,
    { evidence },
  );
}

function labelText(c: KnownController): string {
  return Object.entries(c.podLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Error lines of the last 30 minutes in the controller pods' logs (the previous container's too). */
function recentErrors(
  view: ClusterView,
  ns: NorthSouthView,
  pods: readonly Pod[],
  controller: KnownController,
) {
  const since = view.observedAt.getTime() - recentMs;
  const quotes: string[] = [];
  const unread: string[] = [];
  let count = 0;
  for (const pod of pods) {
    const logs = ns.controllerLogs.get(podRef(pod));
    // A waiting (crash-looping) container has no current log: its previous one tells why.
    if (!logs || (logs.current.state === 'missing' && logs.previous.state === 'missing')) {
      unread.push(
        `${podRef(pod)}: ${logs?.current.state === 'missing' ? logs.current.reason : 'not collected'}`,
      );
      continue;
    }
    for (const which of ['previous', 'current'] as const) {
      const log = logs[which];
      if (log.state === 'missing') continue;
      const errs = errorLines(log.value.lines, view.observedAt).filter((e) => e.time.getTime() >= since);
      count += errs.length;
      const last = errs.at(-1);
      if (last)
        quotes.push(
          `${podRef(pod)}${which === 'previous' ? ' (previous)' : ''} ${controller.container}: ${last.text}`,
        );
    }
  }
  return {
    count,
    quotes: quotes.slice(0, 3),
    note: unread.length > 0 ? `log not read for ${unread.slice(0, 2).join('; ')}` : '',
  };
}
