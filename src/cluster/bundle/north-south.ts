/**
 * Reading the north-south files of a bundle (issue 18 §4, all optional): the target route
 * (`namespaces/<ns>/ingresses.json` or `httproutes.json`), `ingressclasses.json`, the
 * namespace's `targetgroupbindings.json`, `controller-pods.json` and `controller-services.json`
 * (the known controllers' pods and Services, every namespace) and their logs under
 * `logs/<ns>/<pod>/`.
 */
import { UsageError } from '../../errors.js';
import { type Collected, mapCollected, missing } from '../collected.js';
import { endpointSliceSchema, type Pod, podSchema, type Service, serviceSchema } from '../kube-types.js';
import { controllerOfPod } from '../north-south/controllers.js';
import {
  httpRouteSchema,
  ingressClassSchema,
  ingressSchema,
  type RouteRef,
  routeBackends,
  targetGroupBindingSchema,
} from '../north-south/types.js';
import type { NorthSouthView, Route } from '../north-south/view.js';
import type { PodLogs, Target } from '../view.js';
import type { BundleFiles } from './files.js';
import { allInOrder } from './read-ahead.js';

export const routeFiles = { Ingress: 'ingresses', HTTPRoute: 'httproutes' } as const;
export const controllerPodsFile = 'controller-pods.json';
export const controllerServicesFile = 'controller-services.json';

/** The target route, read from its namespace's list; `undefined` inside collected when absent. */
export async function readRoute(dir: BundleFiles, ref: RouteRef): Promise<Collected<Route | undefined>> {
  const rel = `namespaces/${ref.namespace}/${routeFiles[ref.kind]}.json`;
  if (ref.kind === 'Ingress') {
    const list = await dir.readList(rel, 'Ingress', ingressSchema());
    return mapCollected(list, (items) => {
      const object = items.find((i) => i.metadata.name === ref.name);
      return object ? { kind: 'Ingress' as const, object } : undefined;
    });
  }
  const list = await dir.readList(rel, 'HTTPRoute', httpRouteSchema());
  return mapCollected(list, (items) => {
    const object = items.find((i) => i.metadata.name === ref.name);
    return object ? { kind: 'HTTPRoute' as const, object } : undefined;
  });
}

/**
 * A route target without a Service: the route's first Service backend becomes the target
 * Service, so the east-west checks run on it. A route that does not exist is a bad target.
 */
export async function withRouteBackend(dir: BundleFiles, target: Target): Promise<Target> {
  const ref = target.route;
  if (!ref || target.service) return target;
  const route = await readRoute(dir, ref);
  if (route.state === 'missing') return { ...target, namespace: ref.namespace };
  if (!route.value) throw routeNotFound(ref);
  const first = routeBackends(route.value.object, route.value.kind)[0];
  return { ...target, namespace: ref.namespace, service: first?.service };
}

export function routeNotFound(ref: RouteRef): UsageError {
  return new UsageError(
    `${ref.kind === 'Ingress' ? 'ingress' : 'httproute'} ${ref.namespace}/${ref.name} not found`,
  );
}

/** Whether the north-south checks have anything to look at: a route target or a LoadBalancer Service. */
export function wantsNorthSouth(target: Target, service: Service | undefined): boolean {
  return target.route !== undefined || service?.spec.type === 'LoadBalancer';
}

export async function readNorthSouth(dir: BundleFiles, target: Target): Promise<NorthSouthView> {
  const ns = target.route?.namespace ?? target.namespace;
  const inNs = (resource: string) => `namespaces/${ns}/${resource}.json`;
  const none = missing<never[]>('no target namespace');
  const route = target.route ? await readRoute(dir, target.route) : undefined;
  // Select before validating: only the route's backend Services (and the target) and their slices.
  const names = new Set([
    ...(target.service ? [target.service] : []),
    ...(route?.state === 'collected' && route.value
      ? routeBackends(route.value.object, route.value.kind).map((b) => b.service)
      : []),
  ]);
  const meta = (item: Record<string, unknown>) =>
    (item.metadata ?? {}) as { name?: string; labels?: Record<string, string> };
  const [ingressClasses, services, endpointSlices, controllerPods, targetGroupBindings, controllerServices] =
    await allInOrder([
      dir.readList('ingressclasses.json', 'IngressClass', ingressClassSchema),
      ns
        ? dir.readList(inNs('services'), 'Service', serviceSchema, (i) => names.has(meta(i).name ?? ''))
        : none,
      ns
        ? dir.readList(inNs('endpointslices'), 'EndpointSlice', endpointSliceSchema, (i) =>
            names.has(meta(i).labels?.['kubernetes.io/service-name'] ?? ''),
          )
        : none,
      dir.readList(
        controllerPodsFile,
        'Pod',
        podSchema,
        (item) => controllerOfPod(item as Pick<Pod, 'metadata'>) !== undefined,
      ),
      ns ? dir.readList(inNs('targetgroupbindings'), 'TargetGroupBinding', targetGroupBindingSchema) : none,
      dir.readList(controllerServicesFile, 'Service', serviceSchema),
    ]);
  return {
    route,
    routeRef: target.route,
    ingressClasses,
    services,
    endpointSlices,
    controllerPods,
    controllerServices,
    controllerLogs: await readControllerLogs(dir, controllerPods),
    targetGroupBindings,
  };
}

async function readControllerLogs(
  dir: BundleFiles,
  pods: Collected<Pod[]>,
): Promise<ReadonlyMap<string, PodLogs>> {
  const logs = new Map<string, PodLogs>();
  if (pods.state === 'missing') return logs;
  for (const pod of pods.value) {
    const controller = controllerOfPod(pod);
    const ns = pod.metadata.namespace ?? 'default';
    if (!controller) continue;
    const base = `logs/${ns}/${pod.metadata.name}/${controller.container}`;
    const [current, previous] = await allInOrder([
      dir.readLogTail(`${base}.log`),
      dir.readLogTail(`${base}.previous.log`),
    ]);
    if (current.state === 'missing' && previous.state === 'missing') continue;
    logs.set(`${ns}/${pod.metadata.name}`, {
      pod: pod.metadata.name,
      container: controller.container,
      current,
      previous,
    });
  }
  return logs;
}
