/** The north-south slice of a ClusterView (issue 18 §4): optional, so other views compile unchanged. */
import type { Collected } from '../collected.js';
import type { EndpointSlice, Pod, Service } from '../kube-types.js';
import type { PodLogs } from '../view.js';
import type { HttpRoute, Ingress, IngressClass, RouteRef, TargetGroupBinding } from './types.js';

export type Route =
  | { readonly kind: 'Ingress'; readonly object: Ingress }
  | { readonly kind: 'HTTPRoute'; readonly object: HttpRoute };

export interface NorthSouthView {
  /** The target route; `undefined` without a route target, or inside `collected` when it does not exist. */
  readonly route: Collected<Route | undefined> | undefined;
  readonly routeRef: RouteRef | undefined;
  readonly ingressClasses: Collected<readonly IngressClass[]>;
  /** Services of the route's (or the target's) namespace: the backends are looked up here. */
  readonly services: Collected<readonly Service[]>;
  /** EndpointSlices of those Services. */
  readonly endpointSlices: Collected<readonly EndpointSlice[]>;
  /** Pods of the known ingress and load-balancer controllers, every namespace. */
  readonly controllerPods: Collected<readonly Pod[]>;
  /** Services of the known controllers, every namespace (ingress-nginx's LoadBalancer among them). */
  readonly controllerServices: Collected<readonly Service[]>;
  /** Controller logs by `namespace/pod`; a pod absent here had no logs collected. */
  readonly controllerLogs: ReadonlyMap<string, PodLogs>;
  /** elbv2.k8s.aws TargetGroupBindings of the namespace (`missing` when the CRD is absent). */
  readonly targetGroupBindings: Collected<readonly TargetGroupBinding[]>;
}
