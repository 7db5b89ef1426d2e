/** Model → bundle files (path → content), consistent across objects, logs and captures. */
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  conntrackStats,
  healthz,
  ipLink,
  iptablesSave,
  ipvsadm,
  lsmod,
  metrics,
  nftRuleset,
  type ProgrammedPort,
  sysctl,
} from './captures.js';
import { at, periodicSyncs, renderLog, startupEvents } from './logs.js';
import { captureOf, clusterCreated, type Model, nodeOf, rolloutAt, vpcCidr } from './model.js';
import {
  endpointSlice,
  type Json,
  list,
  meta,
  node,
  pod,
  type SliceEndpoint,
  service,
  uid,
} from './objects.js';

const json = (v: unknown) => `${JSON.stringify(v, null, 4)}\n`;

const realCapturesDir = path.resolve(import.meta.dirname, '..', 'real-captures');

export function renderBundle(model: Model): Map<string, string> {
  const files = new Map<string, string>();
  const observed = model.collectedAt;
  const zoneOf = (n: string) => nodeOf(model, n).zone;

  files.set(
    'bundle.json',
    json({
      apiVersion: 'kproxy/v1',
      kind: 'Bundle',
      cluster: model.cluster,
      collectedAt: model.collectedAt,
      target: model.target,
    }),
  );
  files.set(
    'version.json',
    json({
      major: '1',
      minor: `${model.eksVersion.split('.')[1]}+`,
      emulationMajor: '1',
      emulationMinor: model.eksVersion.split('.')[1],
      minCompatibilityMajor: '1',
      minCompatibilityMinor: String(Number(model.eksVersion.split('.')[1]) - 1),
      gitVersion: model.apiServerVersion,
      gitCommit: 'c3f25c7de6bc5b3c4b8ba1c6e8f6d22e7a1e0b9a',
      gitTreeState: 'clean',
      buildDate: '2026-10-21T18:04:51Z',
      goVersion: 'go1.22.8',
      compiler: 'gc',
      platform: 'linux/amd64',
    }),
  );
  files.set('nodes.json', json(list(model.nodes.map((n) => node(n, n.created ?? clusterCreated, observed)))));

  // --- app namespace
  const app = model.app;
  const appCreated = '2026-11-18T14:02:11Z';
  const appPods = app.pods.map((p) =>
    pod(
      {
        name: p.name,
        namespace: app.namespace,
        node: p.node,
        hostIP: nodeOf(model, p.node).ip,
        podIP: p.ip,
        labels: p.labels,
        ...(p.annotations ? { annotations: p.annotations } : {}),
        owner: {
          kind: 'ReplicaSet',
          name: `${app.deployment}-${p.labels['pod-template-hash'] ?? '7c9d8b6f5d'}`,
        },
        containers: [
          {
            name: 'web-api',
            image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/web-api:2.14.1',
            ports: p.containerPorts,
            readinessProbe: {
              failureThreshold: 3,
              httpGet: {
                path: '/healthz',
                port: p.containerPorts[0]?.name ?? p.containerPorts[0]?.containerPort ?? 8080,
                scheme: 'HTTP',
              },
              periodSeconds: 10,
              successThreshold: 1,
              timeoutSeconds: 1,
            },
            resources: { limits: { memory: '512Mi' }, requests: { cpu: '250m', memory: '256Mi' } },
          },
        ],
        ready: p.ready,
        ...(p.state ? { state: p.state } : {}),
        ...(p.lastState ? { lastState: p.lastState } : {}),
        ...(p.restartCount !== undefined ? { restartCount: p.restartCount } : {}),
        ...(p.readyMessage ? { readyMessage: p.readyMessage } : {}),
      },
      p.created ?? appCreated,
    ),
  );
  files.set(`namespaces/${app.namespace}/pods.json`, json(list(appPods)));
  files.set(
    `namespaces/${app.namespace}/services.json`,
    json(list([service(app.service, '2026-06-02T09:12:40Z')])),
  );
  const selected = app.pods.filter((p) =>
    Object.entries(app.service.selector ?? {}).every(([k, v]) => p.labels[k] === v),
  );
  const slicePorts = app.service.ports.map((p) => ({
    name: p.name,
    port: resolveTarget(p.targetPort, selected[0]?.containerPorts ?? app.pods[0]?.containerPorts ?? []),
    protocol: p.protocol,
  }));
  const sliceEndpoints: SliceEndpoint[] = selected.map((p) => ({
    ip: p.ip,
    node: p.node,
    pod: p.name,
    zone: zoneOf(p.node),
    ready: p.ready,
  }));
  files.set(
    `namespaces/${app.namespace}/endpointslices.json`,
    json(
      list([
        endpointSlice(
          app.service,
          'x8k2p',
          selected.length ? slicePorts : [],
          sliceEndpoints,
          '2026-06-02T09:12:40Z',
        ),
      ]),
    ),
  );
  files.set(`namespaces/${app.namespace}/networkpolicies.json`, json(list(app.networkPolicies)));
  files.set(`namespaces/${app.namespace}/events.json`, json(list(app.events)));
  files.set(
    `namespaces/${app.namespace}/deployments.json`,
    json(
      list([
        deployment(app.deployment, app.namespace, app.pods.length, app.pods.filter((p) => p.ready).length, {
          app: 'web-api',
        }),
      ]),
    ),
  );

  // --- kube-system
  const ks = 'kube-system';
  const dnsPorts = [
    { name: 'dns', port: 53, protocol: 'UDP' },
    { name: 'dns-tcp', port: 53, protocol: 'TCP' },
    { name: 'metrics', port: 9153, protocol: 'TCP' },
  ];
  const kubeProxyPods = model.kubeProxyPods.map((k) =>
    pod(
      {
        name: k.name,
        namespace: ks,
        node: k.node,
        hostIP: nodeOf(model, k.node).ip,
        podIP: nodeOf(model, k.node).ip,
        hostNetwork: true,
        priorityClassName: 'system-node-critical',
        serviceAccountName: 'kube-proxy',
        labels: {
          'controller-revision-hash': '6d4b9c7f58',
          'k8s-app': 'kube-proxy',
          'pod-template-generation': '3',
        },
        owner: { kind: 'DaemonSet', name: 'kube-proxy' },
        containers: [kubeProxyContainer(model)],
        volumes: kubeProxyVolumes(),
        ready: k.ready,
        ...(k.phase ? { phase: k.phase } : {}),
        state: k.state ?? { kind: 'running', startedAt: k.startedAt },
        ...(k.lastState ? { lastState: k.lastState } : {}),
        ...(k.restartCount !== undefined ? { restartCount: k.restartCount } : {}),
      },
      rolloutAt,
    ),
  );
  const awsNodePods = model.awsNode.map((a) =>
    pod(
      {
        name: a.name,
        namespace: ks,
        node: a.node,
        hostIP: nodeOf(model, a.node).ip,
        podIP: nodeOf(model, a.node).ip,
        hostNetwork: true,
        priorityClassName: 'system-node-critical',
        serviceAccountName: 'aws-node',
        labels: {
          'app.kubernetes.io/instance': 'aws-vpc-cni',
          'app.kubernetes.io/name': 'aws-node',
          'controller-revision-hash': '7b9c6d5f4',
          'k8s-app': 'aws-node',
          'pod-template-generation': '2',
        },
        owner: { kind: 'DaemonSet', name: 'aws-node' },
        containers: awsNodeContainers(model),
        ready: a.ready,
        ...(a.state ? { state: a.state } : {}),
        ...(a.lastState ? { lastState: a.lastState } : {}),
        ...(a.restartCount !== undefined ? { restartCount: a.restartCount } : {}),
      },
      clusterCreated,
    ),
  );
  const corednsPods = model.coredns.map((c) =>
    pod(
      {
        name: c.name,
        namespace: ks,
        node: c.node,
        hostIP: nodeOf(model, c.node).ip,
        podIP: c.ip,
        labels: c.labels,
        priorityClassName: 'system-cluster-critical',
        serviceAccountName: 'coredns',
        owner: { kind: 'ReplicaSet', name: 'coredns-5b8cc885bc' },
        containers: [
          {
            name: 'coredns',
            image: '602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/coredns:v1.11.3-eksbuild.2',
            args: ['-conf', '/etc/coredns/Corefile'],
            ports: c.containerPorts,
            readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' }, periodSeconds: 10 },
          },
        ],
        ready: c.ready,
        ...(c.state ? { state: c.state } : {}),
        ...(c.lastState ? { lastState: c.lastState } : {}),
        ...(c.restartCount !== undefined ? { restartCount: c.restartCount } : {}),
      },
      clusterCreated,
    ),
  );
  files.set(`namespaces/${ks}/pods.json`, json(list([...awsNodePods, ...corednsPods, ...kubeProxyPods])));
  const kpReady = model.kubeProxyPods.filter((k) => k.ready).length;
  files.set(
    `namespaces/${ks}/daemonsets.json`,
    json(
      list([
        daemonSet(
          'aws-node',
          model.awsNode.length,
          model.awsNode.filter((a) => a.ready).length,
          awsNodeContainers(model),
          [],
          { 'k8s-app': 'aws-node' },
        ),
        daemonSet(
          'kube-proxy',
          model.nodes.length,
          kpReady,
          [kubeProxyContainer(model)],
          kubeProxyVolumes(),
          { 'k8s-app': 'kube-proxy' },
          model.kubeProxyPods.length,
        ),
      ]),
    ),
  );
  files.set(
    `namespaces/${ks}/deployments.json`,
    json(
      list([
        deployment('coredns', ks, model.coredns.length, model.coredns.filter((c) => c.ready).length, {
          'k8s-app': 'kube-dns',
        }),
      ]),
    ),
  );
  files.set(`namespaces/${ks}/configmaps.json`, json(list(configMaps(model))));
  files.set(
    `namespaces/${ks}/services.json`,
    json(
      list([
        service(
          {
            name: 'kube-dns',
            namespace: ks,
            clusterIP: '172.20.0.10',
            ports: dnsPorts.map((p) => ({ ...p, targetPort: p.port })),
            selector: { 'k8s-app': 'kube-dns' },
            labels: {
              'eks.amazonaws.com/component': 'kube-dns',
              'k8s-app': 'kube-dns',
              'kubernetes.io/cluster-service': 'true',
              'kubernetes.io/name': 'CoreDNS',
            },
          },
          clusterCreated,
        ),
      ]),
    ),
  );
  files.set(
    `namespaces/${ks}/endpointslices.json`,
    json(
      list([
        endpointSlice(
          { name: 'kube-dns', namespace: ks },
          'q2b7n',
          dnsPorts,
          model.coredns.map((c) => ({
            ip: c.ip,
            node: c.node,
            pod: c.name,
            zone: zoneOf(c.node),
            ready: c.ready,
          })),
          clusterCreated,
        ),
      ]),
    ),
  );
  files.set(`namespaces/${ks}/events.json`, json(list(model.systemEvents)));
  files.set('namespaces/default/events.json', json(list(model.defaultEvents)));
  files.set(
    'namespaces/default/services.json',
    json(
      list([
        service(
          {
            name: 'kubernetes',
            namespace: 'default',
            clusterIP: '172.20.0.1',
            ports: [{ name: 'https', port: 443, targetPort: 443 }],
            labels: { component: 'apiserver', provider: 'kubernetes' },
          },
          clusterCreated,
        ),
      ]),
    ),
  );

  // --- logs
  const programmedTruth = programmedPorts(model);
  const numEndpoints = programmedTruth.reduce((n, p) => n + p.endpoints.length, 0);
  for (const k of model.kubeProxyPods) {
    if (k.noLogs) continue;
    const base = `logs/${ks}/${k.name}/kube-proxy`;
    if (k.state?.kind !== 'waiting' || k.logEvents.length > 0) {
      const startup =
        k.state?.kind === 'waiting'
          ? []
          : startupEvents({
              startedAt: k.startedAt,
              nodeIp: nodeOf(model, k.node).ip,
              version: model.kubeProxy.binaryVersion,
              mode: model.kubeProxy.mode,
              numServices: programmedTruth.length,
              numEndpoints,
            });
      const periodic =
        k.state?.kind === 'waiting'
          ? []
          : periodicSyncs(
              at(observed, -3 * 3600),
              at(observed, -captureOf(model, k.node).lastSyncAgo + 1),
              20 * 60,
              model.kubeProxy.mode,
              programmedTruth.length,
              numEndpoints,
            );
      files.set(`${base}.log`, renderLog([...startup, ...periodic, ...k.logEvents]));
    }
    if (k.previousLog) files.set(`${base}.previous.log`, renderLog(k.previousLog));
  }

  // --- node captures
  const observedMs = Date.parse(observed);
  model.nodes.forEach((n, index) => {
    if (!model.captureNodes.includes(n.name)) return;
    const c = captureOf(model, n.name);
    const dir = `nodes/${n.name}`;
    const programmed = (c.programmed ?? ((p) => p))(programmedPorts(model, n.name));
    const put = (file: string, content: string) => {
      if (!c.omit.includes(file)) files.set(`${dir}/${file}`, content);
    };
    const lastSyncMs = observedMs - c.lastSyncAgo * 1000;
    const healthyNow = c.pendingSinceAgo === undefined || c.pendingSinceAgo < 60;
    put(
      'healthz.json',
      healthz(
        observedMs,
        healthyNow && c.nodeEligible ? observedMs : lastSyncMs,
        Date.parse(rolloutAt),
        c.nodeEligible,
      ),
    );
    put('proxy-mode.txt', model.kubeProxy.mode);
    const ipt = iptablesSave(model.kubeProxy.mode === 'iptables' ? programmed : [], {
      nodeIp: n.ip,
      vpcCidr,
      when: 'Sun Nov 22 09:59:58 2026',
      ...(c.emptyKubeServices ? { emptyKubeServices: true } : {}),
    });
    put('iptables-save.txt', ipt);
    const natRules = ipt.split('\n').filter((l) => l.startsWith('-A KUBE')).length;
    put(
      'metrics.txt',
      metrics({
        observedEpoch: observedMs / 1000,
        lastSyncEpoch: lastSyncMs / 1000,
        lastQueuedEpoch:
          c.pendingSinceAgo !== undefined
            ? (observedMs - c.pendingSinceAgo * 1000) / 1000
            : lastSyncMs / 1000 - 0.4,
        restoreFailures: c.restoreFailures,
        syncDurations: c.syncDurations,
        natRules,
        filterRules: ipt.split('\n').filter((l) => /^-A KUBE-(SERVICES|EXTERNAL|FORWARD|FIREWALL)/.test(l))
          .length,
        noLocalExternal: programmed.filter((p) => p.externalLocal && p.localEndpoints.length === 0).length,
        mode: model.kubeProxy.mode,
      }),
    );
    if (model.kubeProxy.mode === 'nftables') put('nft.txt', nftRuleset(programmed, vpcCidr));
    if (model.kubeProxy.mode === 'ipvs')
      put(
        'ipvsadm.txt',
        c.ipvsError
          ? `${c.ipvsError}\n`
          : ipvsadm(c.kubeIpvs0 ? programmed : [], model.kubeProxy.scheduler || 'rr'),
      );
    put(
      'conntrack.txt',
      conntrackStats(4, c.conntrack.drop, c.conntrack.earlyDrop, c.conntrack.insertFailed),
    );
    put('sysctl.txt', sysctl(c.conntrack.count, c.conntrack.max));
    put('dmesg.txt', dmesg(index, c.dmesg));
    put('lsmod.txt', lsmod(c.modules));
    put(
      'ip-link.txt',
      ipLink(
        index,
        model.app.pods.filter((p) => p.node === n.name).length +
          model.coredns.filter((p) => p.node === n.name).length,
        c.kubeIpvs0,
      ),
    );
  });

  for (const real of model.realCaptures ?? []) {
    for (const file of real.files) {
      files.set(
        `nodes/${real.node}/${file}`,
        readFileSync(path.join(realCapturesDir, 'captures', real.source, file), 'utf8'),
      );
    }
  }

  // --- EKS
  files.set(
    'eks/cluster.json',
    json({
      cluster: {
        name: model.cluster,
        arn: `arn:aws:eks:us-east-1:123456789012:cluster/${model.cluster}`,
        createdAt: clusterCreated,
        version: model.eksVersion,
        endpoint: 'https://8F3C2B1A9D7E6F5A4B3C2D1E0F9A8B7C.gr7.us-east-1.eks.amazonaws.com',
        roleArn: 'arn:aws:iam::123456789012:role/eks-prod-east-cluster',
        resourcesVpcConfig: {
          subnetIds: ['subnet-0a1b2c3d', 'subnet-1b2c3d4e', 'subnet-2c3d4e5f'],
          securityGroupIds: [],
          clusterSecurityGroupId: 'sg-0f1e2d3c4b5a69788',
          vpcId: 'vpc-0123456789abcdef0',
          endpointPublicAccess: false,
          endpointPrivateAccess: true,
        },
        kubernetesNetworkConfig: { serviceIpv4Cidr: '172.20.0.0/16', ipFamily: 'ipv4' },
        status: 'ACTIVE',
        platformVersion: 'eks.12',
      },
    }),
  );
  files.set(
    'eks/addons/kube-proxy.json',
    json(
      addon(
        model,
        'kube-proxy',
        model.kubeProxy.addonVersion,
        model.kubeProxy.mode === 'ipvs'
          ? JSON.stringify({ mode: 'ipvs', ipvs: { scheduler: model.kubeProxy.scheduler || 'rr' } })
          : undefined,
      ),
    ),
  );
  files.set('eks/addons/vpc-cni.json', json(addon(model, 'vpc-cni', 'v1.18.5-eksbuild.1')));
  files.set('eks/addons/coredns.json', json(addon(model, 'coredns', 'v1.11.3-eksbuild.2')));
  for (const f of model.omitFiles) files.delete(f);
  model.postRender?.(files);
  return files;
}

function resolveTarget(target: number | string, ports: { name?: string; containerPort: number }[]): number {
  if (typeof target === 'number') return target;
  return ports.find((p) => p.name === target)?.containerPort ?? 0;
}

/** What kube-proxy should program on a node: every Service port with its ready endpoints. */
export function programmedPorts(model: Model, nodeName?: string): ProgrammedPort[] {
  const app = model.app;
  const svc = app.service;
  const selected = app.pods.filter((p) =>
    Object.entries(svc.selector ?? {}).every(([k, v]) => p.labels[k] === v),
  );
  const ready = selected.filter((p) => p.ready);
  const appPorts: ProgrammedPort[] = svc.ports.map((p) => {
    const target = resolveTarget(p.targetPort, selected[0]?.containerPorts ?? []);
    return {
      spn: p.name ? `${app.namespace}/${svc.name}:${p.name}` : `${app.namespace}/${svc.name}`,
      protocol: p.protocol ?? 'TCP',
      vip: svc.clusterIP,
      port: p.port,
      ...(p.nodePort ? { nodePort: p.nodePort } : {}),
      endpoints: ready.map((r) => `${r.ip}:${target}`),
      localEndpoints: ready.filter((r) => r.node === nodeName).map((r) => `${r.ip}:${target}`),
      externalLocal: svc.externalTrafficPolicy === 'Local',
    };
  });
  const dnsReady = model.coredns.filter((c) => c.ready);
  const dns = (name: string, protocol: string, port: number): ProgrammedPort => ({
    spn: `kube-system/kube-dns:${name}`,
    protocol,
    vip: '172.20.0.10',
    port,
    endpoints: dnsReady.map((c) => `${c.ip}:${port}`),
    localEndpoints: [],
  });
  return [
    {
      spn: 'default/kubernetes:https',
      protocol: 'TCP',
      vip: '172.20.0.1',
      port: 443,
      endpoints: ['10.0.12.201:443', '10.0.45.88:443'],
      localEndpoints: [],
    },
    dns('dns', 'UDP', 53),
    dns('dns-tcp', 'TCP', 53),
    dns('metrics', 'TCP', 9153),
    ...appPorts,
  ];
}

function kubeProxyContainer(model: Model) {
  return {
    name: 'kube-proxy',
    image: model.kubeProxy.image,
    command: [
      'kube-proxy',
      '--v=2',
      '--config=/var/lib/kube-proxy-config/config',
      '--hostname-override=$(NODE_NAME)',
    ],
    env: [{ name: 'NODE_NAME', value: '' }],
    resources: { requests: { cpu: '100m' } },
    securityContext: { privileged: true },
    volumeMounts: [
      { mountPath: '/var/log', name: 'varlog' },
      { mountPath: '/run/xtables.lock', name: 'xtables-lock' },
      { mountPath: '/lib/modules', name: 'lib-modules', readOnly: true },
      { mountPath: '/var/lib/kube-proxy/', name: 'kubeconfig' },
      { mountPath: '/var/lib/kube-proxy-config/', name: 'config' },
    ],
  };
}

function kubeProxyVolumes(): Json[] {
  return [
    { hostPath: { path: '/var/log', type: '' }, name: 'varlog' },
    { hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' }, name: 'xtables-lock' },
    { hostPath: { path: '/lib/modules', type: '' }, name: 'lib-modules' },
    { configMap: { defaultMode: 420, name: 'kube-proxy' }, name: 'kubeconfig' },
    { configMap: { defaultMode: 420, name: 'kube-proxy-config' }, name: 'config' },
  ];
}

function awsNodeContainers(model: Model) {
  return [
    {
      name: 'aws-node',
      image: '602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:v1.18.5-eksbuild.1',
      env: model.awsNodeEnv,
      ports: [{ containerPort: 61678, name: 'metrics' }],
      readinessProbe: {
        exec: {
          command: ['/app/grpc-health-probe', '-addr=:50051', '-connect-timeout=5s', '-rpc-timeout=5s'],
        },
        periodSeconds: 10,
      },
    },
    {
      name: 'aws-eks-nodeagent',
      image: '602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon/aws-network-policy-agent:v1.1.3-eksbuild.1',
      args: ['--enable-ipv6=false', '--enable-network-policy=false', '--enable-cloudwatch-logs=false'],
    },
  ];
}

function daemonSet(
  name: string,
  desired: number,
  ready: number,
  containers: unknown[],
  volumes: Json[],
  labels: Record<string, string>,
  current = desired,
): Json {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      ...meta('DaemonSet', name, 'kube-system', clusterCreated, {
        annotations: { 'deprecated.daemonset.template.generation': '3' },
        generation: 3,
        labels: { ...labels, 'eks.amazonaws.com/component': name },
      }),
    },
    spec: {
      revisionHistoryLimit: 10,
      selector: { matchLabels: labels },
      template: {
        metadata: { creationTimestamp: null, labels },
        spec: {
          containers,
          dnsPolicy: 'ClusterFirst',
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          restartPolicy: 'Always',
          serviceAccountName: name,
          tolerations: [{ operator: 'Exists' }],
          volumes,
        },
      },
      updateStrategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: '10%' }, type: 'RollingUpdate' },
    },
    status: {
      currentNumberScheduled: current,
      desiredNumberScheduled: desired,
      numberAvailable: ready,
      numberMisscheduled: 0,
      numberReady: ready,
      ...(desired - ready > 0 ? { numberUnavailable: desired - ready } : {}),
      observedGeneration: 3,
      updatedNumberScheduled: current,
    },
  };
}

function deployment(
  name: string,
  namespace: string,
  replicas: number,
  ready: number,
  selector: Record<string, string>,
): Json {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta('Deployment', name, namespace, clusterCreated, {
      annotations: { 'deployment.kubernetes.io/revision': '7' },
      generation: 7,
      labels: selector,
    }),
    spec: {
      progressDeadlineSeconds: 600,
      replicas,
      revisionHistoryLimit: 10,
      selector: { matchLabels: selector },
      strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, type: 'RollingUpdate' },
    },
    status: {
      availableReplicas: ready,
      observedGeneration: 7,
      readyReplicas: ready,
      replicas,
      updatedReplicas: replicas,
      ...(ready < replicas ? { unavailableReplicas: replicas - ready } : {}),
    },
  };
}

function configMaps(model: Model): Json[] {
  const mode = model.kubeProxy.configMode;
  const config = [
    'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
    'bindAddress: 0.0.0.0',
    'clientConnection:',
    '  acceptContentTypes: ""',
    '  burst: 10',
    '  contentType: application/vnd.kubernetes.protobuf',
    '  kubeconfig: /var/lib/kube-proxy/kubeconfig',
    '  qps: 5',
    'clusterCIDR: ""',
    'configSyncPeriod: 15m0s',
    'conntrack:',
    '  maxPerCore: 32768',
    '  min: 131072',
    '  tcpCloseWaitTimeout: 1h0m0s',
    '  tcpEstablishedTimeout: 24h0m0s',
    'enableProfiling: false',
    'healthzBindAddress: 0.0.0.0:10256',
    'hostnameOverride: ""',
    'iptables:',
    '  masqueradeAll: false',
    '  masqueradeBit: 14',
    '  minSyncPeriod: 0s',
    '  syncPeriod: 30s',
    'ipvs:',
    '  excludeCIDRs: null',
    '  minSyncPeriod: 0s',
    `  scheduler: "${model.kubeProxy.scheduler}"`,
    '  syncPeriod: 30s',
    'kind: KubeProxyConfiguration',
    'metricsBindAddress: 0.0.0.0:10249',
    `mode: "${mode}"`,
    'nodePortAddresses: null',
    'oomScoreAdj: -998',
    'portRange: ""',
    '',
  ].join('\n');
  return [
    {
      apiVersion: 'v1',
      data: { config },
      kind: 'ConfigMap',
      metadata: meta('ConfigMap', 'kube-proxy-config', 'kube-system', clusterCreated, {
        labels: { 'eks.amazonaws.com/component': 'kube-proxy', 'k8s-app': 'kube-proxy' },
      }),
    },
    {
      apiVersion: 'v1',
      data: {
        kubeconfig:
          'kind: Config\napiVersion: v1\nclusters:\n- cluster:\n    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n    server: https://8F3C2B1A9D7E6F5A4B3C2D1E0F9A8B7C.gr7.us-east-1.eks.amazonaws.com\n  name: default\ncontexts:\n- context:\n    cluster: default\n    namespace: default\n    user: default\n  name: default\ncurrent-context: default\nusers:\n- name: default\n  user:\n    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token\n',
      },
      kind: 'ConfigMap',
      metadata: meta('ConfigMap', 'kube-proxy', 'kube-system', clusterCreated, {
        labels: { 'eks.amazonaws.com/component': 'kube-proxy', 'k8s-app': 'kube-proxy' },
      }),
    },
    {
      apiVersion: 'v1',
      data: {
        Corefile:
          '.:53 {\n    errors\n    health {\n        lameduck 5s\n      }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n      pods insecure\n      fallthrough in-addr.arpa ip6.arpa\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n',
      },
      kind: 'ConfigMap',
      metadata: meta('ConfigMap', 'coredns', 'kube-system', clusterCreated, {
        labels: { 'eks.amazonaws.com/component': 'coredns', 'k8s-app': 'kube-dns' },
      }),
    },
  ];
}

function addon(model: Model, name: string, version: string, configurationValues?: string): Json {
  return {
    addon: {
      addonName: name,
      clusterName: model.cluster,
      status: 'ACTIVE',
      addonVersion: version,
      health: { issues: [] },
      addonArn: `arn:aws:eks:us-east-1:123456789012:addon/${model.cluster}/${name}/${uid(name).slice(0, 8)}`,
      createdAt: clusterCreated,
      modifiedAt: '2026-11-20T08:13:40Z',
      tags: {},
      ...(configurationValues ? { configurationValues } : {}),
    },
  };
}

function dmesg(nodeIndex: number, extra: string[]): string {
  const boot = [
    `[    0.000000] Linux version 5.10.227-219.884.amzn2.x86_64 (mockbuild@ip-10-0-38-5) (gcc10-gcc (GCC) 10.5.0 20230707 (Red Hat 10.5.0-1), GNU ld version 2.35.2-9.amzn2.0.1) #1 SMP Tue Oct 22 16:38:39 UTC 2024`,
    '[    2.114235] ena 0000:00:05.0: Elastic Network Adapter (ENA) v2.12.0g',
    '[    6.201774] bridge: filtering via arp/ip/ip6tables is no longer available by default. Update your scripts to load br_netfilter if you need this.',
    '[    6.214510] Bridge firewalling registered',
    `[   11.804122] IPv6: ADDRCONF(NETDEV_CHANGE): eni${(0x3a5f10 + nodeIndex).toString(16)}: link becomes ready`,
  ];
  return `${[...boot, ...extra].join('\n')}\n`;
}

export async function writeBundle(dir: string, files: Map<string, string>): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const [rel, content] of files) {
    const full = path.join(dir, rel);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, content);
  }
}
