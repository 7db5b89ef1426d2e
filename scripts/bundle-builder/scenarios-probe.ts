/**
 * Example incidents for the client's-eye probe (issue 18.1): a base scenario plus the
 * matrix its probe pod printed (`probe/<node>/matrix.txt`). The paths are the ones kproxy
 * plans for the rendered Service, EndpointSlices and node (probePlan), so the live path
 * against the test API server asks for exactly what the bundle recorded; each outcome is
 * what the runbooks' decision tree branches on.
 */
import { probeFile } from '../../src/cluster/bundle/probe-files.js';
import { endpointSliceSchema, nodeSchema, serviceSchema } from '../../src/cluster/kube-types.js';
import { defaultProbe } from '../../src/cluster/live/probe-pod.js';
import { formatProbeOutput, type ProbeKind, type ProbeRow } from '../../src/cluster/probe/matrix.js';
import { probePlan } from '../../src/cluster/probe/script.js';
import { nodeNames } from './model.js';
import { scenarios } from './scenarios.js';
import { type PostRenderScenario, verdictScenarios } from './scenarios-verdicts.js';

const [, n2, n3] = nodeNames;

type Outcomes = Partial<Record<ProbeKind, { outcome: string; detail?: string }>>;

function scenarioOf(name: string) {
  const s = [...scenarios, ...verdictScenarios].find((x) => x.name === name);
  if (!s) throw new Error(`no scenario ${name}`);
  return s;
}

/** Adds the probe's matrix from `node` (as `as` in `namespace`), with each kind's outcome. */
function addProbe(
  files: Map<string, string>,
  node: string,
  outcomes: Outcomes,
  site: { namespace: string; as: string | null } = { namespace: defaultProbe.namespace, as: null },
): void {
  const items = (rel: string) => (JSON.parse(files.get(rel) ?? '{"items":[]}') as { items: unknown[] }).items;
  const service = items('namespaces/app/services.json')
    .map((s) => serviceSchema.parse(s))
    .find((s) => s.metadata.name === 'web-api');
  const slices = items('namespaces/app/endpointslices.json').map((s) => endpointSliceSchema.parse(s));
  const nodeObj = items('nodes.json')
    .map((n) => nodeSchema.parse(n))
    .find((n) => n.metadata.name === node);
  const rows: ProbeRow[] = probePlan(service, slices, nodeObj, defaultProbe.maxEndpoints).map((arg) => {
    const [kind, target] = arg.split(/=(.*)/s) as [ProbeKind, string];
    const o = outcomes[kind] ?? { outcome: 'ok', detail: '-' };
    const detail = kind === 'dns' && o.outcome === 'ok' ? (service?.spec.clusterIP ?? undefined) : o.detail;
    return { kind, target, outcome: o.outcome, ...(detail !== undefined ? { detail } : {}) };
  });
  files.set(probeFile(node), formatProbeOutput({ node, namespace: site.namespace, as: site.as, rows }));
}

function withProbe(
  name: string,
  baseName: string,
  summary: string,
  expected: PostRenderScenario['expected'],
  probe: (files: Map<string, string>) => void,
): PostRenderScenario {
  const base = scenarioOf(baseName) as PostRenderScenario;
  return {
    name,
    summary,
    expected,
    build() {
      const m = base.build();
      m.scenario = name;
      return m;
    },
    postRender(files) {
      base.postRender?.(files);
      probe(files);
    },
  };
}

const apiOk = { outcome: 'ok', detail: '403' };

export const probeScenarios: PostRenderScenario[] = [
  withProbe(
    'probe-vip-fails',
    'inconclusive-no-captures',
    'No node captures for the target node (the inconclusive-no-captures incident), but the probe pod on it reaches both web-api pods directly while the ClusterIP and the kubernetes Service time out: kube-proxy on that node, decided by the probe.',
    {
      category: 'stale_endpoints',
      nodes: [n2 as string],
      evidence: [
        'the VIP fails, every endpoint answers directly',
        'VIP 172.20.91.14:80 ✗ timeout',
        'pods 3/3 ✓',
      ],
    },
    (files) =>
      addProbe(files, n2 as string, {
        vip: { outcome: 'timeout' },
        apiserver: { outcome: 'timeout' },
        nodeport: { outcome: 'timeout' },
      }),
  ),
  withProbe(
    'probe-all-fail',
    'node-cni-notready',
    'The CNI agent crash-loops on the target node; the probe pod there reaches nothing: not the name, not the VIP, no pod IP, not the API server. Both fail: node or network.',
    {
      category: 'node_network',
      nodes: [n2 as string],
      evidence: ['neither the VIP nor any endpoint answers', 'pods 0/3 ✗'],
    },
    (files) =>
      addProbe(files, n2 as string, {
        dns: { outcome: 'timeout' },
        vip: { outcome: 'timeout' },
        endpoint: { outcome: 'timeout' },
        nodeport: { outcome: 'timeout' },
        apiserver: { outcome: 'timeout' },
      }),
  ),
  withProbe(
    'probe-dns-fails',
    'coredns-down',
    'CoreDNS crash-loops; the probe pod resolves nothing (dig: no servers could be reached) while the ClusterIP, every pod IP and the API server answer: DNS, and the Service path itself works.',
    {
      category: 'dns',
      nodes: [],
      evidence: ['name ✗ timeout', 'does not resolve to its ClusterIP while the VIP answers'],
    },
    (files) =>
      addProbe(files, n2 as string, {
        dns: { outcome: 'timeout' },
        vip: { outcome: 'ok', detail: '200' },
        endpoint: { outcome: 'ok', detail: '200' },
        apiserver: apiOk,
      }),
  ),
  withProbe(
    'probe-all-pass',
    'healthy',
    'Healthy, and the probe pod on the target node says so: the name resolves to the ClusterIP, the VIP, every pod IP and the API server (403) answer.',
    { category: 'none', nodes: [], evidence: ['the path works from there', 'API ✓ 403'] },
    (files) =>
      addProbe(files, n2 as string, {
        vip: { outcome: 'ok', detail: '200' },
        endpoint: { outcome: 'ok', detail: '200' },
        apiserver: apiOk,
      }),
  ),
  withProbe(
    'probe-networkpolicy-from',
    'networkpolicy-deny-from',
    'The networkpolicy-deny-from incident with the probe run as the client (app/batch labels, namespace app) on its node: the VIP and every pod IP time out while the API server answers. The policy read from the objects is confirmed by the path itself.',
    {
      category: 'network_policy',
      nodes: [],
      evidence: [
        'NetworkPolicy app/web-api-ingress denies Deployment app/batch',
        'as app/batch (namespace app)',
      ],
    },
    (files) =>
      addProbe(
        files,
        n3 as string,
        {
          vip: { outcome: 'timeout' },
          endpoint: { outcome: 'timeout' },
          nodeport: { outcome: 'timeout' },
          apiserver: apiOk,
        },
        { namespace: 'app', as: 'app/batch' },
      ),
  ),
];
