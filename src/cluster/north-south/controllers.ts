/**
 * The ingress and load-balancer controllers kproxy knows, by what names them in the API
 * (IngressClass `spec.controller`, Service `spec.loadBalancerClass`) and the labels their
 * official charts put on the controller pods. A controller not listed here is reported as
 * unknown, never guessed.
 */
import type { Pod } from '../kube-types.js';

export interface KnownController {
  readonly name: string;
  /** IngressClass spec.controller values it implements. */
  readonly ingressClassControllers: readonly string[];
  /** Service spec.loadBalancerClass values it implements. */
  readonly loadBalancerClasses: readonly string[];
  /** Labels every controller pod carries. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** The container whose log is read. */
  readonly container: string;
}

export const knownControllers: readonly KnownController[] = [
  {
    // kubernetes/ingress-nginx charts/ingress-nginx: templates/controller-deployment.yaml labels
    // (app.kubernetes.io/name, component: controller), container "controller"; IngressClass
    // controller "k8s.io/ingress-nginx" (templates/controller-ingressclass.yaml).
    name: 'ingress-nginx',
    ingressClassControllers: ['k8s.io/ingress-nginx'],
    loadBalancerClasses: [],
    podLabels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
    container: 'controller',
  },
  {
    // kubernetes-sigs/aws-load-balancer-controller helm/aws-load-balancer-controller: pod label
    // app.kubernetes.io/name, container "aws-load-balancer-controller"; IngressClass controller
    // "ingress.k8s.aws/alb", loadBalancerClass "service.k8s.aws/nlb" (docs/guide/service).
    name: 'aws-load-balancer-controller',
    ingressClassControllers: ['ingress.k8s.aws/alb'],
    loadBalancerClasses: ['service.k8s.aws/nlb'],
    podLabels: { 'app.kubernetes.io/name': 'aws-load-balancer-controller' },
    container: 'aws-load-balancer-controller',
  },
];

/** The label selector that lists every known controller's pods in one cluster-wide call. */
export const controllerPodSelector = `app.kubernetes.io/name in (${knownControllers
  .map((c) => c.podLabels['app.kubernetes.io/name'])
  .join(',')})`;

export function controllerOfPod(pod: Pick<Pod, 'metadata'>): KnownController | undefined {
  const labels = pod.metadata.labels ?? {};
  return knownControllers.find((c) => Object.entries(c.podLabels).every(([k, v]) => labels[k] === v));
}

export function controllerForIngressClass(controller: string): KnownController | undefined {
  return knownControllers.find((c) => c.ingressClassControllers.includes(controller));
}

export function controllerForLoadBalancerClass(lbClass: string): KnownController | undefined {
  return knownControllers.find((c) => c.loadBalancerClasses.includes(lbClass));
}
