/**
 * A large synthetic bundle for the benchmarks: N nodes (kube-proxy and aws-node on
 * each), 10 pods per node spread over namespaces, M Services with EndpointSlices, and
 * captures (iptables-save with every Service) for a few nodes. Objects come from the
 * same factories as the example bundles, so their size is realistic.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { healthz, iptablesSave, metrics, type ProgrammedPort } from '../scripts/bundle-builder/captures.js';
import { periodicSyncs, renderLog, startupEvents } from '../scripts/bundle-builder/logs.js';
import { clusterCreated, collectedAt, rolloutAt, vpcCidr } from '../scripts/bundle-builder/model.js';
import { endpointSlice, type Json, list, node, pod, service } from '../scripts/bundle-builder/objects.js';

export interface LargeBundleSpec {
  readonly nodes: number;
  /** Application pods per node; kube-proxy and aws-node add two more on each. */
  readonly podsPerNode: number;
  readonly services: number;
  readonly namespaces: number;
  /** Nodes that get captures and kube-proxy logs (the affected ones). */
  readonly capturedNodes: number;
}

const nodeName = (i: number) =>
  `ip-10-${8 + Math.floor(i / 62500)}-${Math.floor(i / 250) % 250}-${(i % 250) + 1}.ec2.internal`;
const nodeIp = (i: number) => `10.${8 + Math.floor(i / 62500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
const podIp = (i: number) =>
  `10.${100 + Math.floor(i / 65000)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
const vip = (i: number) => `172.${20 + Math.floor(i / 62500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;

export async function writeLargeBundle(
  dir: string,
  spec: LargeBundleSpec,
): Promise<{ files: number; bytes: number }> {
  await rm(dir, { recursive: true, force: true });
  let files = 0;
  let bytes = 0;
  const put = async (rel: string, content: string) => {
    const full = path.join(dir, rel);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, content);
    files++;
    bytes += Buffer.byteLength(content);
  };
  const json = (v: unknown) => JSON.stringify(v, null, 4);
  const target = { namespace: 'ns-000', service: 'svc-00000', node: nodeName(0) };
  await put(
    'bundle.json',
    json({ apiVersion: 'kproxy/v1', kind: 'Bundle', cluster: 'bench', collectedAt, target }),
  );
  await put(
    'version.json',
    json({ major: '1', minor: '30+', gitVersion: 'v1.30.6-eks-7f9249a', platform: 'linux/amd64' }),
  );
  await put(
    'nodes.json',
    json(
      list(
        Array.from({ length: spec.nodes }, (_, i) =>
          node(
            {
              name: nodeName(i),
              ip: nodeIp(i),
              zone: `us-east-1${'abc'[i % 3]}`,
              instanceId: `i-${(i + 0x1000000).toString(16).padStart(17, '0')}`,
              kubeletVersion: 'v1.30.4-eks-a737599',
            },
            clusterCreated,
            collectedAt,
          ),
        ),
      ),
    ),
  );

  // Application pods: podsPerNode × nodes, round-robin over namespaces; every Service selects a group of pods.
  const totalPods = spec.nodes * spec.podsPerNode;
  const perNamespacePods = Math.ceil(totalPods / spec.namespaces);
  const perNamespaceServices = Math.ceil(spec.services / spec.namespaces);
  const programmed: ProgrammedPort[] = [];
  for (let ns = 0; ns < spec.namespaces; ns++) {
    const namespace = `ns-${String(ns).padStart(3, '0')}`;
    const pods: Json[] = [];
    const services: Json[] = [];
    const slices: Json[] = [];
    for (let s = 0; s < perNamespaceServices; s++) {
      const svcIndex = ns * perNamespaceServices + s;
      if (svcIndex >= spec.services) break;
      const name = `svc-${String(svcIndex).padStart(5, '0')}`;
      const members: { name: string; ip: string; node: string }[] = [];
      const first = Math.floor((s * perNamespacePods) / perNamespaceServices);
      const last = Math.floor(((s + 1) * perNamespacePods) / perNamespaceServices);
      for (let p = first; p < last; p++) {
        const global = ns * perNamespacePods + p;
        if (global >= totalPods) break;
        const m = {
          name: `${name}-5d8f7c9b4-${global.toString(36).padStart(5, '0')}`,
          ip: podIp(global),
          node: nodeName(global % spec.nodes),
        };
        members.push(m);
        pods.push(
          pod(
            {
              name: m.name,
              namespace,
              node: m.node,
              hostIP: nodeIp(global % spec.nodes),
              podIP: m.ip,
              labels: { app: name, 'pod-template-hash': '5d8f7c9b4' },
              owner: { kind: 'ReplicaSet', name: `${name}-5d8f7c9b4` },
              containers: [
                {
                  name: 'app',
                  image: `registry.example.com/${name}:1.0.${s % 7}`,
                  ports: [{ name: 'http', containerPort: 8080 }],
                  readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
                },
              ],
            },
            '2026-11-18T14:02:11Z',
          ),
        );
      }
      services.push(
        service(
          {
            name,
            namespace,
            clusterIP: vip(svcIndex),
            ports: [{ name: 'http', port: 80, targetPort: 'http' }],
            selector: { app: name },
          },
          clusterCreated,
        ),
      );
      slices.push(
        endpointSlice(
          { name, namespace },
          'a1b2c',
          [{ name: 'http', port: 8080 }],
          members.map((m) => ({ ip: m.ip, node: m.node, pod: m.name, zone: 'us-east-1a', ready: true })),
          clusterCreated,
        ),
      );
      programmed.push({
        spn: `${namespace}/${name}:http`,
        protocol: 'TCP',
        vip: vip(svcIndex),
        port: 80,
        endpoints: members.map((m) => `${m.ip}:8080`),
        localEndpoints: [],
      });
    }
    await put(`namespaces/${namespace}/pods.json`, json(list(pods)));
    await put(`namespaces/${namespace}/services.json`, json(list(services)));
    await put(`namespaces/${namespace}/endpointslices.json`, json(list(slices)));
    await put(`namespaces/${namespace}/networkpolicies.json`, json(list([])));
    await put(`namespaces/${namespace}/events.json`, json(list([])));
  }

  // kube-system: kube-proxy and aws-node on every node.
  const system: Json[] = [];
  for (let i = 0; i < spec.nodes; i++) {
    const kp = `kube-proxy-${i.toString(36).padStart(5, '0')}`;
    system.push(
      pod(
        {
          name: kp,
          namespace: 'kube-system',
          node: nodeName(i),
          hostIP: nodeIp(i),
          podIP: nodeIp(i),
          hostNetwork: true,
          labels: { 'k8s-app': 'kube-proxy' },
          owner: { kind: 'DaemonSet', name: 'kube-proxy' },
          containers: [
            {
              name: 'kube-proxy',
              image: '602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:v1.30.6-minimal-eksbuild.3',
              command: ['kube-proxy', '--v=2', '--config=/var/lib/kube-proxy-config/config'],
            },
          ],
        },
        rolloutAt,
      ),
    );
    system.push(
      pod(
        {
          name: `aws-node-${i.toString(36).padStart(5, '0')}`,
          namespace: 'kube-system',
          node: nodeName(i),
          hostIP: nodeIp(i),
          podIP: nodeIp(i),
          hostNetwork: true,
          labels: { 'k8s-app': 'aws-node' },
          owner: { kind: 'DaemonSet', name: 'aws-node' },
          containers: [
            {
              name: 'aws-node',
              image: '602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:v1.18.5-eksbuild.1',
            },
          ],
        },
        clusterCreated,
      ),
    );
  }
  const dnsLabels = { 'k8s-app': 'kube-dns' };
  const coredns = [0, 1].map((i) => ({
    name: `coredns-5b8cc885bc-${['2xv7r', '9tnbw'][i]}`,
    ip: podIp(totalPods + i),
    node: nodeName(i),
  }));
  for (const c of coredns) {
    system.push(
      pod(
        {
          name: c.name,
          namespace: 'kube-system',
          node: c.node,
          hostIP: nodeIp(0),
          podIP: c.ip,
          labels: dnsLabels,
          owner: { kind: 'ReplicaSet', name: 'coredns-5b8cc885bc' },
          containers: [
            {
              name: 'coredns',
              image: 'coredns:v1.11.3',
              ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }],
            },
          ],
        },
        clusterCreated,
      ),
    );
  }
  await put('namespaces/kube-system/pods.json', json(list(system)));
  const ds = (name: string, volumes: Json[] = []) => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'kube-system' },
    spec: {
      selector: { matchLabels: { 'k8s-app': name } },
      template: {
        metadata: { labels: { 'k8s-app': name } },
        spec: {
          containers: [
            {
              name,
              image:
                name === 'kube-proxy'
                  ? '602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:v1.30.6-minimal-eksbuild.3'
                  : 'cni',
            },
          ],
          volumes,
        },
      },
    },
    status: {
      desiredNumberScheduled: spec.nodes,
      currentNumberScheduled: spec.nodes,
      numberReady: spec.nodes,
      numberAvailable: spec.nodes,
      numberMisscheduled: 0,
    },
  });
  await put(
    'namespaces/kube-system/daemonsets.json',
    json(
      list([
        ds('kube-proxy', [{ name: 'config', configMap: { name: 'kube-proxy-config' } }]),
        ds('aws-node'),
      ]),
    ),
  );
  await put(
    'namespaces/kube-system/configmaps.json',
    json(
      list([
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'kube-proxy-config', namespace: 'kube-system' },
          data: {
            config:
              'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: "iptables"\n',
          },
        },
      ]),
    ),
  );
  await put(
    'namespaces/kube-system/services.json',
    json(
      list([
        service(
          {
            name: 'kube-dns',
            namespace: 'kube-system',
            clusterIP: '172.19.0.10',
            ports: [{ name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' }],
            selector: dnsLabels,
          },
          clusterCreated,
        ),
      ]),
    ),
  );
  await put(
    'namespaces/kube-system/endpointslices.json',
    json(
      list([
        endpointSlice(
          { name: 'kube-dns', namespace: 'kube-system' },
          'q2b7n',
          [{ name: 'dns', port: 53, protocol: 'UDP' }],
          coredns.map((c) => ({ ip: c.ip, node: c.node, pod: c.name, zone: 'us-east-1a', ready: true })),
          clusterCreated,
        ),
      ]),
    ),
  );
  await put('namespaces/kube-system/deployments.json', json(list([])));
  await put('namespaces/kube-system/events.json', json(list([])));
  await put('namespaces/default/events.json', json(list([])));

  for (let i = 0; i < spec.capturedNodes; i++) {
    const n = nodeName(i);
    const observedMs = Date.parse(collectedAt);
    await put(
      `nodes/${n}/iptables-save.txt`,
      iptablesSave(programmed, { nodeIp: nodeIp(i), vpcCidr, when: 'Sun Nov 22 09:59:58 2026' }),
    );
    await put(`nodes/${n}/healthz.json`, healthz(observedMs, observedMs, Date.parse(rolloutAt)));
    await put(`nodes/${n}/proxy-mode.txt`, 'iptables');
    await put(
      `nodes/${n}/metrics.txt`,
      metrics({
        observedEpoch: observedMs / 1000,
        lastSyncEpoch: observedMs / 1000 - 3,
        lastQueuedEpoch: observedMs / 1000 - 3.4,
        restoreFailures: 0,
        syncDurations: [4.1, 0.9, 0.8, 0.85],
        natRules: programmed.length * 6,
        filterRules: 9,
        noLocalExternal: 0,
        mode: 'iptables',
      }),
    );
    const kp = `kube-proxy-${i.toString(36).padStart(5, '0')}`;
    await put(
      `logs/kube-system/${kp}/kube-proxy.log`,
      renderLog([
        ...startupEvents({
          startedAt: rolloutAt,
          nodeIp: nodeIp(i),
          version: 'v1.30.6-eks-ba0a3b4',
          mode: 'iptables',
          numServices: spec.services,
          numEndpoints: totalPods,
        }),
        ...periodicSyncs(
          '2026-11-20T09:00:00Z',
          '2026-11-22T09:59:00Z',
          60,
          'iptables',
          spec.services,
          totalPods,
        ),
      ]),
    );
  }
  return { files, bytes };
}
