/**
 * Examples whose target node carries real captures (scripts/real-captures: upstream
 * kube-proxy test dumps replayed through the real iptables-restore / ip6tables-restore /
 * nft and read back with iptables-save / ip6tables-save / `nft list ruleset`), around the
 * upstream tests' own Services (`ns1/svc1`, `ns4/svc4`, their cluster and pod IPs), plus
 * the `--from` client example.
 */

import { baseModel, collectedAt, type Model, nodeNames } from './model.js';
import type { Json } from './objects.js';
import type { Scenario } from './scenarios.js';

const [, n2, n3] = nodeNames;

type Files = Map<string, string>;
const read = (files: Files, rel: string) => JSON.parse(files.get(rel) ?? '{"items":[]}') as { items: Json[] };
const write = (files: Files, rel: string, doc: unknown) =>
  files.set(rel, `${JSON.stringify(doc, null, 4)}\n`);

/** An upstream test Service (`ns1/svc1:p80` or `ns4/svc4:p80`) with its pods on the target node. */
function upstreamService(
  m: Model,
  ns: string,
  name: string,
  clusterIP: string,
  pods: { suffix: string; ip: string }[],
  extra: { clusterIPs?: string[]; ipFamilies?: string[] } = {},
): void {
  const hash = '5d8f7c6b9';
  m.target = { namespace: ns, service: name, node: n2 };
  m.app.namespace = ns;
  m.app.deployment = name;
  m.app.service = {
    name,
    namespace: ns,
    clusterIP,
    ...extra,
    ports: [{ name: 'p80', port: 80, targetPort: 80 }],
    selector: { app: name },
  };
  m.app.pods = pods.map((p) => ({
    name: `${name}-${hash}-${p.suffix}`,
    node: n2,
    ip: p.ip,
    ready: true,
    labels: { app: name, 'pod-template-hash': hash },
    containerPorts: [{ name: 'http', containerPort: 80 }],
  }));
  m.app.networkPolicies = [];
  m.app.events = [];
  // Only the target node was captured: the real captures hold just the upstream tests' Services.
  m.captureNodes = [n2];
}

/** Adds an EndpointSlice of `addressType` (IPv6 or FQDN) next to the generated IPv4 one. */
function addSlice(
  files: Files,
  ns: string,
  service: string,
  addressType: string,
  addresses: { ip: string; pod?: string }[],
): void {
  const rel = `namespaces/${ns}/endpointslices.json`;
  const doc = read(files, rel);
  const first = doc.items[0] as { metadata: Record<string, unknown>; ports: unknown };
  doc.items.push({
    ...first,
    addressType,
    metadata: {
      ...first.metadata,
      name: `${service}-${addressType.toLowerCase()}-7f2lq`,
      uid: `${addressType}-slice-of-${service}`,
    },
    endpoints: addresses.map((a) => ({
      addresses: [a.ip],
      conditions: { ready: true, serving: true, terminating: false },
      ...(a.pod ? { nodeName: n2, targetRef: { kind: 'Pod', name: a.pod, namespace: ns } } : {}),
    })),
  });
  write(files, rel, doc);
}

/** Pods of a dual-stack or IPv6 cluster list every address in `status.podIPs`. */
function setPodIps(files: Files, ns: string, ips: Record<string, string[]>): void {
  const rel = `namespaces/${ns}/pods.json`;
  const doc = read(files, rel);
  for (const pod of doc.items as { metadata: { name: string }; status: Record<string, unknown> }[]) {
    const list = ips[pod.metadata.name];
    if (list) Object.assign(pod.status, { podIP: list[0], podIPs: list.map((ip) => ({ ip })) });
  }
  write(files, rel, doc);
}

/** A 1.33 EKS cluster whose kube-proxy runs in nftables mode. */
export function nftablesCluster(m: Model): void {
  m.apiServerVersion = 'v1.33.4-eks-2c5f1a0';
  m.eksVersion = '1.33';
  Object.assign(m.kubeProxy, {
    image: '602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:v1.33.4-minimal-eksbuild.2',
    binaryVersion: 'v1.33.4-eks-9d2b6c1',
    addonVersion: 'v1.33.4-eksbuild.2',
    mode: 'nftables',
    configMode: 'nftables',
  });
  for (const n of m.nodes) n.kubeletVersion = 'v1.33.4-eks-2c5f1a0';
}

const svc1Pod = 'svc1-5d8f7c6b9-k2x4m';

export const realScenarios: Scenario[] = [
  {
    name: 'dual-stack-healthy',
    summary:
      'Real captures: a dual-stack Service (IPv4 primary) whose IPv4 rules are in iptables-save and IPv6 rules in ip6tables-save; each family matches its own EndpointSlice. Source: pkg/proxy/iptables/proxier_test.go TestOverallIPTablesRules (scripts/real-captures iptables-dual-stack).',
    expected: { category: 'none', nodes: [], evidence: [] },
    build() {
      const m = baseModel('dual-stack-healthy');
      upstreamService(m, 'ns1', 'svc1', '172.30.0.41', [{ suffix: 'k2x4m', ip: '10.180.0.1' }], {
        clusterIPs: ['172.30.0.41', 'fd00:172:30::41'],
        ipFamilies: ['IPv4', 'IPv6'],
      });
      m.realCaptures = [
        { node: n2, source: 'iptables-dual-stack', files: ['iptables-save.txt', 'ip6tables-save.txt'] },
      ];
      m.postRender = (files) => {
        addSlice(files, 'ns1', 'svc1', 'IPv6', [{ ip: 'fd00:10:180::1', pod: svc1Pod }]);
        setPodIps(files, 'ns1', { [svc1Pod]: ['10.180.0.1', 'fd00:10:180::1'] });
      };
      return m;
    },
  },
  {
    name: 'ipv6-stale-endpoints-nftables',
    summary:
      "Real captures: an IPv6-only Service in nftables mode; the node's `table ip6 kube-proxy` still DNATs to a deleted pod ([fd00:10:180::2:1]:80) and lacks its replacement. Source: kubernetes-sigs/knftables fake_test.go IPv6 dump (scripts/real-captures nftables-ipv6).",
    expected: {
      category: 'stale_endpoints',
      nodes: [n2],
      evidence: ['[fd00:10:180::2:1]:80', '[fd00:10:180::3]:80 not programmed'],
    },
    build() {
      const m = baseModel('ipv6-stale-endpoints-nftables');
      nftablesCluster(m);
      upstreamService(
        m,
        'ns1',
        'svc1',
        'fd00:172:30::41',
        [
          { suffix: 'k2x4m', ip: 'fd00:10:180::1' },
          { suffix: 'w9z7q', ip: 'fd00:10:180::3' },
        ],
        { ipFamilies: ['IPv6'] },
      );
      m.realCaptures = [{ node: n2, source: 'nftables-ipv6', files: ['nft.txt'] }];
      m.postRender = (files) => {
        // The generated slice holds the pods' addresses: in an IPv6-only cluster it is an IPv6 slice.
        const rel = 'namespaces/ns1/endpointslices.json';
        const doc = read(files, rel);
        for (const s of doc.items as { addressType: string }[]) s.addressType = 'IPv6';
        write(files, rel, doc);
      };
      return m;
    },
  },
  {
    name: 'nftables-numgen-map-dnat',
    summary:
      'Real captures: nftables mode in the layout where the service chain DNATs itself through `numgen random mod 2 map { 0 : ip . port, … }` (no endpoint chains); it matches the EndpointSlices. Source: pkg/proxy/nftables/proxier_test.go TestOverallNFTablesRules as of kubernetes/kubernetes#140362 (scripts/real-captures nftables-map-dnat).',
    expected: { category: 'none', nodes: [], evidence: [] },
    build() {
      const m = baseModel('nftables-numgen-map-dnat');
      nftablesCluster(m);
      upstreamService(m, 'ns4', 'svc4', '172.30.0.44', [
        { suffix: 'p4m2x', ip: '10.180.0.4' },
        { suffix: 'r8t6v', ip: '10.180.0.5' },
      ]);
      m.realCaptures = [{ node: n2, source: 'nftables-map-dnat', files: ['nft.txt'] }];
      return m;
    },
  },
  {
    name: 'nftables-endpoint-chains',
    summary:
      'Real captures: nftables mode in the layout with a `numgen … vmap` to endpoint chains that `dnat to` each backend; it matches the EndpointSlices. Source: pkg/proxy/nftables/proxier_test.go TestOverallNFTablesRules (scripts/real-captures nftables-overall).',
    expected: { category: 'none', nodes: [], evidence: [] },
    build() {
      const m = baseModel('nftables-endpoint-chains');
      nftablesCluster(m);
      upstreamService(m, 'ns4', 'svc4', '172.30.0.44', [
        { suffix: 'p4m2x', ip: '10.180.0.4' },
        { suffix: 'r8t6v', ip: '10.180.0.5' },
      ]);
      m.realCaptures = [{ node: n2, source: 'nftables-overall', files: ['nft.txt'] }];
      return m;
    },
  },
  {
    name: 'fqdn-slice-ignored',
    summary:
      'Real captures: a Service with an extra, hand-made FQDN EndpointSlice; kube-proxy ignores FQDN slices, and so does kproxy: the rules match the IPv4 slice. Source: pkg/proxy/iptables/proxier_test.go TestOverallIPTablesRules (scripts/real-captures iptables-overall).',
    expected: { category: 'none', nodes: [], evidence: ['addressType FQDN, ignored by kube-proxy'] },
    build() {
      const m = baseModel('fqdn-slice-ignored');
      upstreamService(m, 'ns1', 'svc1', '172.30.0.41', [{ suffix: 'k2x4m', ip: '10.180.0.1' }]);
      m.realCaptures = [{ node: n2, source: 'iptables-overall', files: ['iptables-save.txt'] }];
      m.postRender = (files) => addSlice(files, 'ns1', 'svc1', 'FQDN', [{ ip: 'legacy-api.example.com' }]);
      return m;
    },
  },
  {
    name: 'networkpolicy-deny-from',
    summary:
      'Named client (`--from app/batch`): an ingress policy admits only role=frontend pods to web-api, so the batch Deployment is denied; the client runs on one node, which scopes the per-node checks.',
    expected: {
      category: 'network_policy',
      nodes: [],
      evidence: [
        'NetworkPolicy app/web-api-ingress denies Deployment app/batch',
        'pods {role=frontend} in app',
      ],
    },
    build() {
      const m = baseModel('networkpolicy-deny-from');
      m.target = { namespace: 'app', service: 'web-api', from: 'app/batch' };
      m.app.networkPolicies = [
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'web-api-ingress', namespace: 'app', creationTimestamp: '2026-11-22T09:20:00Z' },
          spec: {
            podSelector: { matchLabels: { app: 'web-api' } },
            policyTypes: ['Ingress'],
            ingress: [
              {
                from: [{ podSelector: { matchLabels: { role: 'frontend' } } }],
                ports: [{ port: 8080, protocol: 'TCP' }],
              },
            ],
          },
        },
      ];
      m.app.pods.push({
        name: 'batch-6c8d9f7b5-x2lmq',
        node: n3,
        ip: '10.0.3.150',
        ready: true,
        labels: { app: 'batch', 'pod-template-hash': '6c8d9f7b5' },
        containerPorts: [{ containerPort: 9090 }],
      });
      m.postRender = (files) => {
        const rel = 'namespaces/app/deployments.json';
        const doc = read(files, rel);
        const web = doc.items[0] as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
        doc.items.push({
          ...web,
          metadata: { ...web.metadata, name: 'batch', uid: 'deployment-app-batch', labels: { app: 'batch' } },
          spec: { ...web.spec, replicas: 1, selector: { matchLabels: { app: 'batch' } } },
        });
        write(files, rel, doc);
        write(files, 'namespaces.json', {
          apiVersion: 'v1',
          kind: 'List',
          items: ['app', 'kube-system', 'default'].map((name) => ({
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: {
              name,
              creationTimestamp: collectedAt,
              labels: { 'kubernetes.io/metadata.name': name },
            },
            spec: { finalizers: ['kubernetes'] },
            status: { phase: 'Active' },
          })),
        });
      };
      return m;
    },
  },
];
