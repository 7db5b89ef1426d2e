/**
 * The example incidents: one realistic scenario per root-cause category, plus healthy
 * clusters (one with old, recovered errors). Each says what kproxy must conclude.
 */
import type { RootCauseCategory } from '../../src/checks/types.js';
import type { ProgrammedPort } from './captures.js';
import { at } from './logs.js';
import { baseModel, captureOf, collectedAt, kubeProxyPodOf, type Model, nodeNames } from './model.js';
import { event } from './objects.js';
import { nftablesCluster, realScenarios } from './real-scenarios.js';

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  readonly expected: { category: RootCauseCategory; nodes: string[]; evidence: string[] };
  build(): Model;
}

const [n1, n2, n3] = nodeNames;
const ago = (seconds: number) => at(collectedAt, -seconds);

function replaceEndpoint(spnPrefix: string, from: string, to: string | undefined) {
  return (ports: ProgrammedPort[]) =>
    ports.map((p) =>
      p.spn.startsWith(spnPrefix)
        ? {
            ...p,
            endpoints: p.endpoints.flatMap((e) =>
              e.startsWith(`${from}:`) ? (to ? [`${to}:${e.split(':')[1]}`] : []) : [e],
            ),
          }
        : p,
    );
}

export const scenarios: Scenario[] = [
  {
    name: 'healthy',
    summary: 'Everything works: kube-proxy in iptables mode, rules match EndpointSlices on every node.',
    expected: { category: 'none', nodes: [], evidence: [] },
    build: () => baseModel('healthy'),
  },
  {
    name: 'healthy-ipvs',
    summary:
      'A healthy cluster in IPVS mode: modules loaded, kube-ipvs0 present, virtual servers match endpoints.',
    expected: { category: 'none', nodes: [], evidence: [] },
    build() {
      const m = baseModel('healthy-ipvs');
      m.kubeProxy.mode = 'ipvs';
      m.kubeProxy.configMode = 'ipvs';
      m.kubeProxy.scheduler = 'rr';
      for (const n of nodeNames)
        Object.assign(captureOf(m, n), {
          modules: ['ip_vs_sh', 'ip_vs_wrr', 'ip_vs_rr', 'ip_vs'],
          kubeIpvs0: true,
        });
      return m;
    },
  },
  {
    name: 'healthy-with-old-errors',
    summary:
      'Healthy now; kube-proxy logged iptables-restore and list/watch errors during a control-plane upgrade two hours ago, and synced fine since. History, not cause.',
    expected: { category: 'none', nodes: [], evidence: [] },
    build() {
      const m = baseModel('healthy-with-old-errors');
      kubeProxyPodOf(m, n2).logEvents.push(
        {
          at: ago(7300),
          severity: 'W',
          source: 'reflector.go:547',
          message:
            'k8s.io/client-go/informers/factory.go:160: failed to list *v1.EndpointSlice: Get "https://8F3C2B1A9D7E6F5A4B3C2D1E0F9A8B7C.gr7.us-east-1.eks.amazonaws.com/apis/discovery.k8s.io/v1/endpointslices?labelSelector=%21service.kubernetes.io%2Fheadless%2C%21service.kubernetes.io%2Fservice-proxy-name&limit=500&resourceVersion=0": dial tcp 10.0.12.201:443: connect: connection refused',
        },
        {
          at: ago(7300),
          severity: 'E',
          source: 'reflector.go:150',
          message:
            'k8s.io/client-go/informers/factory.go:160: Failed to watch *v1.EndpointSlice: failed to list *v1.EndpointSlice: Get "https://8F3C2B1A9D7E6F5A4B3C2D1E0F9A8B7C.gr7.us-east-1.eks.amazonaws.com/apis/discovery.k8s.io/v1/endpointslices?labelSelector=%21service.kubernetes.io%2Fheadless%2C%21service.kubernetes.io%2Fservice-proxy-name&limit=500&resourceVersion=0": dial tcp 10.0.12.201:443: connect: connection refused',
        },
        {
          at: ago(7210),
          severity: 'E',
          source: 'proxier.go:1552',
          message:
            '"Failed to execute iptables-restore" err="exit status 4: Another app is currently holding the xtables lock. Stopped waiting after 5s.\\n"',
        },
        {
          at: ago(7210),
          severity: 'I',
          source: 'proxier.go:810',
          message: '"Sync failed" retryingTime="30s"',
        },
        {
          at: ago(7180),
          severity: 'I',
          source: 'shared_informer.go:320',
          message: 'Caches are synced for endpoint slice config',
        },
      );
      captureOf(m, n2).restoreFailures = 1;
      return m;
    },
  },
  {
    name: 'no-endpoints-readiness',
    summary:
      'A bad config makes every web-api pod fail its readiness probe. kube-proxy also restarts on another node, which must not distract: no endpoints comes first.',
    expected: { category: 'no_endpoints', nodes: [], evidence: ['Readiness probe failed', 'none Ready'] },
    build() {
      const m = baseModel('no-endpoints-readiness');
      for (const p of m.app.pods) {
        p.ready = false;
        p.readyMessage = 'containers with unready status: [web-api]';
        m.app.events.push(
          event(
            'app',
            { kind: 'Pod', name: p.name, namespace: 'app' },
            'Warning',
            'Unhealthy',
            'Readiness probe failed: HTTP probe failed with statuscode: 503',
            ago(1450),
            ago(8),
            146,
            { component: 'kubelet', host: p.node },
          ),
        );
      }
      const kp = kubeProxyPodOf(m, n3);
      Object.assign(kp, {
        ready: false,
        restartCount: 6,
        state: {
          kind: 'waiting',
          reason: 'CrashLoopBackOff',
          message: 'back-off 5m0s restarting failed container=kube-proxy pod=kube-proxy-zr5hq_kube-system',
        },
        lastState: {
          kind: 'terminated',
          reason: 'Error',
          exitCode: 1,
          startedAt: ago(340),
          finishedAt: ago(339),
        },
      });
      kp.previousLog = [
        {
          at: ago(339),
          severity: 'E',
          source: 'server.go:558',
          message:
            '"Error running ProxyServer" err="failed to get node IP: node \\"ip-10-0-3-67.ec2.internal\\" not found"',
        },
      ];
      return m;
    },
  },
  {
    name: 'kube-proxy-crashloop',
    summary:
      'An edit to the kube-proxy-config ConfigMap broke decoding; the restarted kube-proxy on the target node crash-loops, so its rules are never re-synced.',
    expected: { category: 'pod_crash', nodes: [n2], evidence: ['CrashLoopBackOff', 'failed complete'] },
    build() {
      const m = baseModel('kube-proxy-crashloop');
      const kp = kubeProxyPodOf(m, n2);
      Object.assign(kp, {
        ready: false,
        restartCount: 11,
        state: {
          kind: 'waiting',
          reason: 'CrashLoopBackOff',
          message: 'back-off 5m0s restarting failed container=kube-proxy pod=kube-proxy-k2v9d_kube-system',
        },
        lastState: {
          kind: 'terminated',
          reason: 'Error',
          exitCode: 1,
          startedAt: ago(212),
          finishedAt: ago(211),
        },
      });
      kp.previousLog = [
        {
          at: ago(211.2),
          severity: 'I',
          source: 'server.go:872',
          message: `"Version info" version="${m.kubeProxy.binaryVersion}"`,
        },
        {
          at: ago(211.1),
          severity: 'E',
          source: 'run.go:72',
          message:
            '"command failed" err="failed complete: failed to decode: strict decoding error: yaml: line 14: mapping values are not allowed in this context"',
        },
      ];
      m.systemEvents.push(
        event(
          'kube-system',
          { kind: 'Pod', name: 'kube-proxy-k2v9d', namespace: 'kube-system' },
          'Warning',
          'BackOff',
          'Back-off restarting failed container kube-proxy in pod kube-proxy-k2v9d_kube-system(3f1c9a2e-6b7d-4e8f-9a0b-1c2d3e4f5a6b)',
          ago(1500),
          ago(20),
          63,
          { component: 'kubelet', host: n2 },
        ),
      );
      // The node still carries the rules of the last good sync, minus a pod rescheduled since.
      captureOf(m, n2).programmed = replaceEndpoint('app/web-api', '10.0.3.88', '10.0.3.14');
      captureOf(m, n2).lastSyncAgo = 1500;
      return m;
    },
  },
  {
    name: 'kube-proxy-oomkilled',
    summary: 'kube-proxy on the target node is OOMKilled repeatedly (memory limit too low for the rule set).',
    expected: { category: 'pod_crash', nodes: [n1], evidence: ['OOMKilled'] },
    build() {
      const m = baseModel('kube-proxy-oomkilled');
      m.target.node = n1;
      const kp = kubeProxyPodOf(m, n1);
      Object.assign(kp, {
        ready: false,
        restartCount: 23,
        state: {
          kind: 'waiting',
          reason: 'CrashLoopBackOff',
          message: 'back-off 5m0s restarting failed container=kube-proxy pod=kube-proxy-8fxlw_kube-system',
        },
        lastState: {
          kind: 'terminated',
          reason: 'OOMKilled',
          exitCode: 137,
          startedAt: ago(130),
          finishedAt: ago(96),
        },
      });
      kp.previousLog = [
        {
          at: ago(130),
          severity: 'I',
          source: 'server.go:872',
          message: `"Version info" version="${m.kubeProxy.binaryVersion}"`,
        },
        { at: ago(129.8), severity: 'I', source: 'server_linux.go:165', message: '"Using iptables Proxier"' },
        { at: ago(129.5), severity: 'I', source: 'proxier.go:805', message: '"Syncing iptables rules"' },
      ];
      m.systemEvents.push(
        event(
          'kube-system',
          { kind: 'Pod', name: 'kube-proxy-8fxlw', namespace: 'kube-system' },
          'Warning',
          'BackOff',
          'Back-off restarting failed container kube-proxy in pod kube-proxy-8fxlw_kube-system(0d6c1f2a-1b3c-4d5e-8f9a-0b1c2d3e4f5a)',
          ago(3600),
          ago(31),
          88,
          { component: 'kubelet', host: n1 },
        ),
      );
      captureOf(m, n1).lastSyncAgo = 3600;
      return m;
    },
  },
  {
    name: 'api-unauthorized',
    summary:
      'kube-proxy on the target node lost API access (its projected token is rejected: Unauthorized) and stopped receiving EndpointSlice updates; its rules still point at a replaced pod. aws-node runs POD_SECURITY_GROUP_ENFORCING_MODE=strict, a red herring for these unannotated pods.',
    expected: { category: 'api_connectivity', nodes: [n2], evidence: ['Unauthorized'] },
    build() {
      const m = baseModel('api-unauthorized');
      m.awsNodeEnv.push({ name: 'POD_SECURITY_GROUP_ENFORCING_MODE', value: 'strict' });
      const kp = kubeProxyPodOf(m, n2);
      for (let t = 1750; t > 5; t -= 57) {
        kp.logEvents.push(
          {
            at: ago(t),
            severity: 'W',
            source: 'reflector.go:547',
            message:
              'k8s.io/client-go/informers/factory.go:160: failed to list *v1.EndpointSlice: Unauthorized',
          },
          {
            at: ago(t - 0.001),
            severity: 'E',
            source: 'reflector.go:150',
            message:
              'k8s.io/client-go/informers/factory.go:160: Failed to watch *v1.EndpointSlice: failed to list *v1.EndpointSlice: Unauthorized',
          },
        );
      }
      // web-api-…-q7rjn was replaced 20 minutes ago; this node never heard about it.
      const replaced = m.app.pods[2];
      if (replaced) {
        replaced.name = 'web-api-7c9d8b6f5d-w2lfc';
        replaced.ip = '10.0.3.19';
        replaced.created = ago(1200);
      }
      captureOf(m, n2).programmed = replaceEndpoint('app/web-api', '10.0.3.19', '10.0.3.88');
      return m;
    },
  },
  {
    name: 'iptables-xtables-lock',
    summary:
      'A security agent holds the xtables lock; iptables-restore fails on the target node for 15 minutes, healthz turns 503 and a new endpoint never reaches the rules.',
    expected: { category: 'iptables_sync', nodes: [n2], evidence: ['xtables lock'] },
    build() {
      const m = baseModel('iptables-xtables-lock');
      const kp = kubeProxyPodOf(m, n2);
      for (let t = 905; t > 10; t -= 31) {
        kp.logEvents.push(
          { at: ago(t), severity: 'I', source: 'proxier.go:805', message: '"Syncing iptables rules"' },
          {
            at: ago(t - 5.02),
            severity: 'E',
            source: 'proxier.go:1552',
            message:
              '"Failed to execute iptables-restore" err="exit status 4: Another app is currently holding the xtables lock. Stopped waiting after 5s.\\n"',
          },
          {
            at: ago(t - 5.03),
            severity: 'I',
            source: 'proxier.go:810',
            message: '"Sync failed" retryingTime="30s"',
          },
          // syncProxyRules' timing defer runs last, after failed syncs too (pkg/proxy/iptables/proxier.go).
          {
            at: ago(t - 5.031),
            severity: 'I',
            source: 'proxier.go:799',
            message: '"SyncProxyRules complete" elapsed="5.031207s"',
          },
        );
      }
      const c = captureOf(m, n2);
      c.lastSyncAgo = 912;
      c.pendingSinceAgo = 780;
      c.restoreFailures = 29;
      // A fourth replica came up 13 minutes ago; the node's rules do not have it.
      m.app.pods.push({
        name: 'web-api-7c9d8b6f5d-zc8vt',
        node: n1,
        ip: '10.0.1.77',
        ready: true,
        labels: { app: 'web-api', 'pod-template-hash': '7c9d8b6f5d' },
        containerPorts: [{ name: 'http', containerPort: 8080 }],
        created: ago(800),
      });
      c.programmed = replaceEndpoint('app/web-api', '10.0.1.77', undefined);
      return m;
    },
  },
  {
    name: 'ipvs-kube-ipvs0-missing',
    summary:
      'IPVS mode after a node image change: only ip_vs and ip_vs_rr are loaded and kube-proxy cannot create kube-ipvs0, so no virtual server exists on the target node.',
    expected: { category: 'ipvs_modules', nodes: [n2], evidence: ['kube-ipvs0'] },
    build() {
      const m = baseModel('ipvs-kube-ipvs0-missing');
      m.kubeProxy.mode = 'ipvs';
      m.kubeProxy.configMode = 'ipvs';
      m.kubeProxy.scheduler = 'rr';
      for (const n of [n1, n3])
        Object.assign(captureOf(m, n), {
          modules: ['ip_vs_sh', 'ip_vs_wrr', 'ip_vs_rr', 'ip_vs'],
          kubeIpvs0: true,
        });
      Object.assign(captureOf(m, n2), { modules: ['ip_vs_rr', 'ip_vs'], kubeIpvs0: false });
      const kp = kubeProxyPodOf(m, n2);
      for (let t = 1790; t > 20; t -= 30) {
        kp.logEvents.push({
          at: ago(t),
          severity: 'E',
          source: 'proxier.go:1088',
          message: '"Failed to create dummy interface" err="operation not supported" interface="kube-ipvs0"',
        });
      }
      return m;
    },
  },
  {
    name: 'stale-endpoints',
    summary:
      'After a burst of node scale-downs, the target node kept a KUBE-SEP rule to a deleted pod and misses its replacement, while kube-proxy reports healthy: a node-specific blackhole.',
    expected: { category: 'stale_endpoints', nodes: [n2], evidence: ['stale backend', '10.0.3.41:8080'] },
    build() {
      const m = baseModel('stale-endpoints');
      const moved = m.app.pods[2];
      if (moved) {
        moved.name = 'web-api-7c9d8b6f5d-tj6gx';
        moved.ip = '10.0.3.152';
        moved.created = ago(3000);
      }
      captureOf(m, n2).programmed = replaceEndpoint('app/web-api', '10.0.3.152', '10.0.3.41');
      m.defaultEvents.push(
        event(
          'default',
          { kind: 'Node', name: 'ip-10-0-4-12.ec2.internal' },
          'Normal',
          'RemovingNode',
          'Node ip-10-0-4-12.ec2.internal event: Removing Node ip-10-0-4-12.ec2.internal from Controller',
          ago(3300),
          ago(3300),
          1,
          { component: 'node-controller' },
        ),
        event(
          'default',
          { kind: 'Node', name: 'ip-10-0-4-98.ec2.internal' },
          'Normal',
          'RemovingNode',
          'Node ip-10-0-4-98.ec2.internal event: Removing Node ip-10-0-4-98.ec2.internal from Controller',
          ago(3120),
          ago(3120),
          1,
          { component: 'node-controller' },
        ),
      );
      return m;
    },
  },
  {
    name: 'stale-endpoints-nftables',
    summary:
      'A 1.33 cluster in nftables mode: the target node still DNATs to a deleted pod while its replacement is missing from the endpoint chains.',
    expected: { category: 'stale_endpoints', nodes: [n2], evidence: ['10.0.1.66:8080'] },
    build() {
      const m = baseModel('stale-endpoints-nftables');
      nftablesCluster(m);
      const moved = m.app.pods[0];
      if (moved) {
        moved.name = 'web-api-7c9d8b6f5d-m3v8r';
        moved.ip = '10.0.1.204';
        moved.created = ago(2400);
      }
      captureOf(m, n2).programmed = replaceEndpoint('app/web-api', '10.0.1.204', '10.0.1.66');
      return m;
    },
  },
  {
    name: 'version-skew',
    summary:
      'The control plane was upgraded to 1.30 but the kube-proxy add-on was left at 1.26: four minors behind, outside the skew policy.',
    // Every node runs the old image: the blast radius is the whole cluster.
    expected: { category: 'version_skew', nodes: [n1, n2, n3], evidence: ['v1.26.15-eksbuild.2'] },
    build() {
      const m = baseModel('version-skew');
      m.kubeProxy.image =
        '602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:v1.26.15-minimal-eksbuild.2';
      m.kubeProxy.binaryVersion = 'v1.26.15-eks-1552ad0';
      m.kubeProxy.addonVersion = 'v1.26.15-eksbuild.2';
      return m;
    },
  },
  {
    name: 'targetport-mismatch',
    summary:
      'The Service was edited to targetPort 8080 while the new image listens on 80: pod IPs work on :80, the Service does not.',
    expected: { category: 'service_config', nodes: [], evidence: ['targetPort 8080'] },
    build() {
      const m = baseModel('targetport-mismatch');
      m.app.service.ports = [{ name: 'http', port: 80, targetPort: 8080 }];
      for (const p of m.app.pods) p.containerPorts = [{ name: 'http', containerPort: 80 }];
      return m;
    },
  },
  {
    name: 'etp-local-no-local-endpoints',
    summary:
      'A LoadBalancer Service with externalTrafficPolicy: Local; the node clients hit has no web-api pod, so kube-proxy drops NodePort traffic there by design.',
    expected: { category: 'service_config', nodes: [n3], evidence: ['has no local endpoints'] },
    build() {
      const m = baseModel('etp-local-no-local-endpoints');
      m.target.node = n3;
      Object.assign(m.app.service, {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 31942,
        ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 30480 }],
        loadBalancerHostname: 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6-1234567890.us-east-1.elb.amazonaws.com',
      });
      const third = m.app.pods[2];
      if (third) {
        third.node = n1;
        third.ip = '10.0.1.188';
      }
      return m;
    },
  },
  {
    name: 'conntrack-exhaustion',
    summary:
      'A retry storm filled the conntrack table on the target node: the kernel drops new connections although every rule is right.',
    expected: { category: 'conntrack', nodes: [n2], evidence: ['table full'] },
    build() {
      const m = baseModel('conntrack-exhaustion');
      const c = captureOf(m, n2);
      c.conntrack = { count: 262144, max: 262144, drop: 18344, earlyDrop: 9211, insertFailed: 402 };
      c.dmesg = [
        '[178201.304512] nf_conntrack: nf_conntrack: table full, dropping packet',
        '[178206.311290] net_ratelimit: 2291 callbacks suppressed',
        '[178206.311293] nf_conntrack: nf_conntrack: table full, dropping packet',
        '[178211.328114] net_ratelimit: 3117 callbacks suppressed',
        '[178211.328118] nf_conntrack: nf_conntrack: table full, dropping packet',
      ];
      return m;
    },
  },
  {
    name: 'coredns-down',
    summary:
      'Both CoreDNS pods crash-loop after a bad Corefile edit; the web-api Service path is fine but nothing resolves its name.',
    expected: { category: 'dns', nodes: [], evidence: ['CoreDNS'] },
    build() {
      const m = baseModel('coredns-down');
      for (const c of m.coredns) {
        Object.assign(c, {
          ready: false,
          restartCount: 9,
          state: {
            kind: 'waiting',
            reason: 'CrashLoopBackOff',
            message: `back-off 5m0s restarting failed container=coredns pod=${c.name}_kube-system`,
          },
          lastState: {
            kind: 'terminated',
            reason: 'Error',
            exitCode: 1,
            startedAt: ago(300),
            finishedAt: ago(299),
          },
        });
        m.systemEvents.push(
          event(
            'kube-system',
            { kind: 'Pod', name: c.name, namespace: 'kube-system' },
            'Warning',
            'BackOff',
            `Back-off restarting failed container coredns in pod ${c.name}_kube-system`,
            ago(1800),
            ago(15),
            41,
            { component: 'kubelet', host: c.node },
          ),
        );
      }
      return m;
    },
  },
  {
    name: 'networkpolicy-deny',
    summary:
      'A namespace-wide default-deny ingress NetworkPolicy was applied to app without an allow rule for web-api.',
    expected: { category: 'network_policy', nodes: [], evidence: ['default-deny-ingress'] },
    build() {
      const m = baseModel('networkpolicy-deny');
      m.app.networkPolicies.push({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: {
          annotations: {
            'kubectl.kubernetes.io/last-applied-configuration':
              '{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"annotations":{},"name":"default-deny-ingress","namespace":"app"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}\n',
          },
          creationTimestamp: ago(2400),
          generation: 1,
          name: 'default-deny-ingress',
          namespace: 'app',
          resourceVersion: '48213377',
          uid: '5d0c7b1e-2f3a-4b5c-9d8e-7f6a5b4c3d2e',
        },
        spec: { podSelector: {}, policyTypes: ['Ingress'] },
      });
      return m;
    },
  },
  {
    name: 'node-cni-notready',
    summary:
      'The VPC CNI agent crash-loops on the target node, which goes NotReady (network plugin not initialized) while kube-proxy and its rules are fine.',
    expected: { category: 'node_network', nodes: [n2], evidence: ['aws-node', 'NetworkPluginNotReady'] },
    build() {
      const m = baseModel('node-cni-notready');
      const node = m.nodes[1];
      if (node)
        Object.assign(node, {
          ready: false,
          readyReason: 'KubeletNotReady',
          readyMessage:
            'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
          readySince: ago(840),
        });
      const aws = m.awsNode[1];
      if (aws)
        Object.assign(aws, {
          ready: false,
          restartCount: 7,
          state: {
            kind: 'waiting',
            reason: 'CrashLoopBackOff',
            message: 'back-off 5m0s restarting failed container=aws-node pod=aws-node-n8w2c_kube-system',
          },
          lastState: {
            kind: 'terminated',
            reason: 'Error',
            exitCode: 1,
            startedAt: ago(200),
            finishedAt: ago(140),
          },
        });
      m.defaultEvents.push(
        event(
          'default',
          { kind: 'Node', name: n2 },
          'Normal',
          'NodeNotReady',
          `Node ${n2} status is now: NodeNotReady`,
          ago(840),
          ago(840),
          1,
          { component: 'node-controller' },
        ),
      );
      return m;
    },
  },
  ...realScenarios,
];
