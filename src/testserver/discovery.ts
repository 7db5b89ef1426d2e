/**
 * API discovery, so that real clients (`kubectl get`, `logs`, `exec`) work against the test
 * API server: the legacy discovery documents (`/api` APIVersions, `/apis` APIGroupList,
 * `/api/v1` and `/apis/GROUP/VERSION` APIResourceList; k8s.io/apiserver
 * pkg/endpoints/discovery legacy.go, group.go, version.go; types in apimachinery
 * pkg/apis/meta/v1/types.go) for exactly the resources this server serves, and the health
 * endpoints (`/healthz`, `/livez`, `/readyz` answer `ok`, apiserver pkg/server/healthz).
 * A client asking for aggregated discovery (apidiscovery.k8s.io/v2) gets these legacy
 * documents, as from a server without it, and falls back (client-go discovery
 * `AggregatedDiscoveryClient` checks the response Content-Type).
 */
interface ResourceSpec {
  readonly name: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  readonly shortNames?: readonly string[];
}

const read = ['get', 'list'] as const;

const groups: Readonly<Record<string, readonly ResourceSpec[]>> = {
  v1: [
    { name: 'pods', kind: 'Pod', namespaced: true, verbs: [...read, 'create', 'delete'], shortNames: ['po'] },
    { name: 'pods/log', kind: 'Pod', namespaced: true, verbs: ['get'] },
    { name: 'pods/exec', kind: 'PodExecOptions', namespaced: true, verbs: ['create', 'get'] },
    { name: 'pods/eviction', kind: 'Eviction', namespaced: true, verbs: ['create'] },
    { name: 'pods/proxy', kind: 'PodProxyOptions', namespaced: true, verbs: ['get'] },
    { name: 'services', kind: 'Service', namespaced: true, verbs: read, shortNames: ['svc'] },
    { name: 'endpoints', kind: 'Endpoints', namespaced: true, verbs: read, shortNames: ['ep'] },
    { name: 'events', kind: 'Event', namespaced: true, verbs: read, shortNames: ['ev'] },
    {
      name: 'configmaps',
      kind: 'ConfigMap',
      namespaced: true,
      verbs: [...read, 'patch'],
      shortNames: ['cm'],
    },
    { name: 'nodes', kind: 'Node', namespaced: false, verbs: [...read, 'patch'], shortNames: ['no'] },
    { name: 'namespaces', kind: 'Namespace', namespaced: false, verbs: read, shortNames: ['ns'] },
    { name: 'nodes/proxy', kind: 'NodeProxyOptions', namespaced: false, verbs: ['get'] },
  ],
  'apps/v1': [
    {
      name: 'daemonsets',
      kind: 'DaemonSet',
      namespaced: true,
      verbs: [...read, 'patch'],
      shortNames: ['ds'],
    },
    { name: 'deployments', kind: 'Deployment', namespaced: true, verbs: read, shortNames: ['deploy'] },
    { name: 'statefulsets', kind: 'StatefulSet', namespaced: true, verbs: read, shortNames: ['sts'] },
  ],
  'discovery.k8s.io/v1': [{ name: 'endpointslices', kind: 'EndpointSlice', namespaced: true, verbs: read }],
  'networking.k8s.io/v1': [
    { name: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true, verbs: read, shortNames: ['netpol'] },
    { name: 'ingresses', kind: 'Ingress', namespaced: true, verbs: read, shortNames: ['ing'] },
    { name: 'ingressclasses', kind: 'IngressClass', namespaced: false, verbs: read },
  ],
  // Served only when the bundle's cluster has the CRD (see crdGroups).
  'gateway.networking.k8s.io/v1': [{ name: 'httproutes', kind: 'HTTPRoute', namespaced: true, verbs: read }],
  'elbv2.k8s.aws/v1beta1': [
    {
      name: 'targetgroupbindings',
      kind: 'TargetGroupBinding',
      namespaced: true,
      verbs: read,
      shortNames: ['tgb'],
    },
  ],
};

/** Group/versions that exist only where a CRD installs them, by the resource they serve. */
export const crdGroups: Readonly<Record<string, string>> = {
  httproutes: 'gateway.networking.k8s.io/v1',
  targetgroupbindings: 'elbv2.k8s.aws/v1beta1',
};

type Json = Record<string, unknown>;

/** The discovery document at `path`, or undefined when `path` is not a discovery path. */
export function discovery(
  path: string,
  installed: ReadonlySet<string> = new Set(),
): Json | string | undefined {
  const served = (gv: string) => !Object.values(crdGroups).includes(gv) || installed.has(gv);
  if (path === '/healthz' || path === '/livez' || path === '/readyz') return 'ok';
  if (path === '/api' || path === '/api/')
    return {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
    };
  if (path === '/apis' || path === '/apis/')
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: Object.keys(groups)
        .filter((gv) => gv.includes('/') && served(gv))
        .map((gv) => {
          const [name, version] = gv.split('/') as [string, string];
          const v = { groupVersion: gv, version };
          return { name, versions: [v], preferredVersion: v };
        }),
    };
  const m = /^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))\/?$/.exec(path);
  const gv = m?.[1] ?? m?.[2];
  const resources = gv && served(gv) ? groups[gv] : undefined;
  if (!gv || !resources) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: gv,
    resources: resources.map((r) => ({
      name: r.name,
      singularName: r.name.includes('/') ? '' : r.kind.toLowerCase(),
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
    })),
  };
}
