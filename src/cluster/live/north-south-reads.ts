/**
 * The north-south reads of a live diagnosis (issue 18 §4), into the in-memory bundle in
 * the layout of cluster/bundle/north-south.ts: the target route (which names the target
 * Service), IngressClasses, the route's other backend Services and their EndpointSlices,
 * the known controllers' pods (one cluster-wide label-selected list) and their logs, and
 * the namespace's TargetGroupBindings. A CRD the cluster does not have answers 404: kept
 * as missing with that reason, so the checks say `unknown`, never guess.
 */
import { bundleLimits } from '../bundle/limits.js';
import type { MemoryBundle } from '../bundle/memory.js';
import {
  controllerPodsFile,
  controllerServicesFile,
  routeFiles,
  routeNotFound,
} from '../bundle/north-south.js';
import type { Pod } from '../kube-types.js';
import { controllerOfPod, controllerPodSelector } from '../north-south/controllers.js';
import { type HttpRoute, type Ingress, type RouteRef, routeBackends } from '../north-south/types.js';
import { serviceNameLabel } from '../selectors.js';
import type { Target } from '../view.js';
import { statusOf } from './kube-errors.js';
import type { Fetched, KubeHttp } from './kube-http.js';
import { call, itemsOf, listDoc, withKind } from './list-docs.js';
import type { ObjectReader } from './object-reads.js';

const routeApi = {
  Ingress: { group: 'networking.k8s.io/v1', resource: 'ingresses.networking.k8s.io' },
  HTTPRoute: { group: 'gateway.networking.k8s.io/v1', resource: 'httproutes.gateway.networking.k8s.io' },
} as const;

/** Most controller pods whose logs are read. */
const maxControllerLogs = 4;

/** Gets the target route into the bundle; its first Service backend becomes the target Service. */
export async function readRouteInto(http: KubeHttp, bundle: MemoryBundle, target: Target): Promise<Target> {
  const ref = target.route as RouteRef;
  const api = routeApi[ref.kind];
  const rel = `namespaces/${ref.namespace}/${routeFiles[ref.kind]}.json`;
  const got = await http.getJson<Record<string, unknown>>(
    `/apis/${api.group}/namespaces/${ref.namespace}/${routeFiles[ref.kind]}/${ref.name}`,
    {},
    call('get', api.resource, ref.namespace),
  );
  if (!got.ok && got.status === 404 && !crdAbsent(got)) throw routeNotFound(ref);
  if (!got.ok) {
    bundle.set(rel, {
      missing: crdAbsent(got) ? `${got.reason} (${api.group} is not served: CRD not installed)` : got.reason,
    });
    return { ...target, namespace: ref.namespace };
  }
  bundle.set(rel, { content: listDoc([withKind(got.value, ref.kind, api.group)]) });
  const first = routeBackends(got.value as unknown as Ingress & HttpRoute, ref.kind)[0];
  return { ...target, namespace: ref.namespace, service: target.service ?? first?.service };
}

/**
 * A 404 for a whole API group, not an object: the end of the apiserver's delegation chain
 * (k8s.io/apiserver pkg/util/notfoundhandler) answers net/http's plain-text `404 page not
 * found`, while an object's absence is a `kind: Status` naming it (apimachinery
 * errors.NewNotFound: `… "name" not found`).
 */
function crdAbsent(got: Fetched<unknown>): boolean {
  return !got.ok && got.status === 404 && statusOf(got.body ?? '') === undefined;
}

export async function readNorthSouthInto(
  http: KubeHttp,
  reader: ObjectReader,
  bundle: MemoryBundle,
  target: Target,
): Promise<void> {
  const ns = target.namespace;
  await Promise.all([
    target.route?.kind === 'Ingress'
      ? reader.listInto(
          bundle,
          'ingressclasses.json',
          'IngressClass',
          'networking.k8s.io/v1',
          '/apis/networking.k8s.io/v1/ingressclasses',
          {},
          call('list', 'ingressclasses.networking.k8s.io'),
        )
      : undefined,
    ns ? readOtherBackends(http, bundle, target, ns) : undefined,
    readControllers(http, bundle),
    ns ? readTargetGroupBindings(reader, bundle, ns) : undefined,
  ]);
}

/** The route's backends other than the target Service, merged into the namespace's services and slices. */
async function readOtherBackends(
  http: KubeHttp,
  bundle: MemoryBundle,
  target: Target,
  ns: string,
): Promise<void> {
  const routeRel = target.route ? `namespaces/${ns}/${routeFiles[target.route.kind]}.json` : undefined;
  const routeDoc = routeRel ? bundle.entries.get(routeRel) : undefined;
  if (!target.route || !routeDoc || !('content' in routeDoc)) return;
  const route = itemsOf(routeDoc.content)[0] as unknown as Ingress & HttpRoute;
  const others = [...new Set(routeBackends(route, target.route.kind).map((b) => b.service))].filter(
    (s) => s !== target.service,
  );
  if (others.length === 0) return;
  const svcRel = `namespaces/${ns}/services.json`;
  const services = await Promise.all(
    others.map((name) =>
      http.getJson<Record<string, unknown>>(
        `/api/v1/namespaces/${ns}/services/${name}`,
        {},
        call('get', 'services', ns),
      ),
    ),
  );
  const failed = services.find((s) => !s.ok && s.status !== 404);
  const svcEntry = bundle.entries.get(svcRel);
  if (failed && !failed.ok) bundle.set(svcRel, { missing: failed.reason });
  else if (svcEntry && 'content' in svcEntry)
    bundle.set(svcRel, {
      content: listDoc([
        ...itemsOf(svcEntry.content),
        ...services.flatMap((s) => (s.ok ? [withKind(s.value, 'Service', 'v1')] : [])),
      ]),
    });
  const sliceRel = `namespaces/${ns}/endpointslices.json`;
  const slices = await http.listAll(
    `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
    { labelSelector: `${serviceNameLabel} in (${others.join(',')})` },
    call('list', 'endpointslices.discovery.k8s.io', ns),
  );
  const sliceEntry = bundle.entries.get(sliceRel);
  if (!slices.ok) bundle.set(sliceRel, { missing: slices.reason });
  else if (!sliceEntry || 'content' in sliceEntry)
    bundle.set(sliceRel, {
      content: listDoc([
        ...itemsOf(sliceEntry && 'content' in sliceEntry ? sliceEntry.content : undefined),
        ...slices.value.items.map((i) => withKind(i, 'EndpointSlice', 'discovery.k8s.io/v1')),
      ]),
    });
}

/** The known controllers' pods and Services, every namespace (one list each), and the logs of a few. */
async function readControllers(http: KubeHttp, bundle: MemoryBundle): Promise<void> {
  const [got, services] = await Promise.all([
    http.listAll('/api/v1/pods', { labelSelector: controllerPodSelector }, call('list', 'pods')),
    http.listAll('/api/v1/services', { labelSelector: controllerPodSelector }, call('list', 'services')),
  ]);
  bundle.set(
    controllerServicesFile,
    services.ok
      ? { content: listDoc(services.value.items.map((i) => withKind(i, 'Service', 'v1'))) }
      : { missing: services.reason },
  );
  if (!got.ok) {
    bundle.set(controllerPodsFile, { missing: got.reason });
    return;
  }
  const pods = got.value.items.map((i) => withKind(i, 'Pod', 'v1') as Pod);
  bundle.set(controllerPodsFile, { content: listDoc(pods) });
  await Promise.all(pods.slice(0, maxControllerLogs).map((p) => readControllerLog(http, bundle, p)));
}

async function readControllerLog(http: KubeHttp, bundle: MemoryBundle, pod: Pod): Promise<void> {
  const controller = controllerOfPod(pod);
  const ns = pod.metadata.namespace;
  if (!controller || !ns) return;
  const container = controller.container;
  const base = `logs/${ns}/${pod.metadata.name}/${container}`;
  const path = `/api/v1/namespaces/${ns}/pods/${pod.metadata.name}/log`;
  const logCall = call('get', 'pods/log', ns);
  const status = (pod.status?.containerStatuses ?? []).find((c) => c.name === container);
  const [current, previous] = await Promise.all([
    status?.state?.waiting
      ? undefined
      : http.getText(path, { container, tailLines: bundleLimits.logTailLines }, logCall),
    (status?.restartCount ?? 0) > 0
      ? http.getText(path, { container, tailLines: bundleLimits.logTailLines, previous: true }, logCall)
      : undefined,
  ]);
  if (current)
    bundle.set(`${base}.log`, current.ok ? { content: current.value } : { missing: current.reason });
  if (previous?.ok) bundle.set(`${base}.previous.log`, { content: previous.value });
}

async function readTargetGroupBindings(
  reader: ObjectReader,
  bundle: MemoryBundle,
  ns: string,
): Promise<void> {
  const rel = `namespaces/${ns}/targetgroupbindings.json`;
  const path = `/apis/elbv2.k8s.aws/v1beta1/namespaces/${ns}/targetgroupbindings`;
  const got = await reader.listInto(
    bundle,
    rel,
    'TargetGroupBinding',
    'elbv2.k8s.aws/v1beta1',
    path,
    {},
    call('list', 'targetgroupbindings.elbv2.k8s.aws', ns),
  );
  if (!got.ok && got.status === 404)
    bundle.set(rel, {
      missing: `${got.reason} (elbv2.k8s.aws/v1beta1 is not served: the AWS Load Balancer Controller's CRD is not installed)`,
    });
}
