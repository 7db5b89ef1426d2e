/**
 * Factories for Kubernetes objects shaped as `kubectl get -o json` prints them
 * (metadata with uid/resourceVersion/creationTimestamp, full status blocks).
 */
import { createHash } from 'node:crypto';

export type Json = Record<string, unknown>;

export function uid(seed: string): string {
  const h = createHash('sha1').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function rv(seed: string): string {
  return String(
    100000 + (Number.parseInt(createHash('sha1').update(seed).digest('hex').slice(0, 6), 16) % 9000000),
  );
}

export function meta(
  kind: string,
  name: string,
  namespace: string | undefined,
  created: string,
  extra: Json = {},
): Json {
  return {
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
    creationTimestamp: created,
    ...(extra.generateName ? { generateName: extra.generateName } : {}),
    ...(extra.generation ? { generation: extra.generation } : {}),
    ...(extra.labels ? { labels: extra.labels } : {}),
    name,
    ...(namespace ? { namespace } : {}),
    ...(extra.ownerReferences ? { ownerReferences: extra.ownerReferences } : {}),
    resourceVersion: rv(`${kind}/${namespace}/${name}`),
    uid: uid(`${kind}/${namespace}/${name}`),
  };
}

export function list(items: Json[], kind = 'List'): Json {
  return { apiVersion: 'v1', items, kind, metadata: { resourceVersion: '' } };
}

export interface NodeSpec {
  name: string;
  ip: string;
  zone: string;
  instanceId: string;
  ready?: boolean;
  readyReason?: string;
  readyMessage?: string;
  readySince?: string;
  networkUnavailable?: boolean;
  taints?: Json[];
  kubeletVersion: string;
  /** metadata.creationTimestamp when the node joined after the cluster was created (scale-up). */
  created?: string;
}

export function node(spec: NodeSpec, created: string, observed: string): Json {
  const ready = spec.ready ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: meta('Node', spec.name, undefined, created, {
      annotations: {
        'alpha.kubernetes.io/provided-node-ip': spec.ip,
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/instance-type': 'm6i.xlarge',
        'beta.kubernetes.io/os': 'linux',
        'eks.amazonaws.com/capacityType': 'ON_DEMAND',
        'eks.amazonaws.com/nodegroup': 'general',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': 'm6i.xlarge',
        'topology.kubernetes.io/region': 'us-east-1',
        'topology.kubernetes.io/zone': spec.zone,
      },
    }),
    spec: {
      providerID: `aws:///${spec.zone}/${spec.instanceId}`,
      ...(spec.taints ? { taints: spec.taints } : {}),
    },
    status: {
      addresses: [
        { address: spec.ip, type: 'InternalIP' },
        { address: spec.name, type: 'InternalDNS' },
        { address: spec.name, type: 'Hostname' },
      ],
      allocatable: { cpu: '3920m', 'ephemeral-storage': '95491281146', memory: '14918772Ki', pods: '58' },
      capacity: { cpu: '4', 'ephemeral-storage': '104845292Ki', memory: '15937652Ki', pods: '58' },
      conditions: [
        {
          lastHeartbeatTime: observed,
          lastTransitionTime: created,
          message: 'kubelet has sufficient memory available',
          reason: 'KubeletHasSufficientMemory',
          status: 'False',
          type: 'MemoryPressure',
        },
        {
          lastHeartbeatTime: observed,
          lastTransitionTime: created,
          message: 'kubelet has no disk pressure',
          reason: 'KubeletHasNoDiskPressure',
          status: 'False',
          type: 'DiskPressure',
        },
        {
          lastHeartbeatTime: observed,
          lastTransitionTime: created,
          message: 'kubelet has sufficient PID available',
          reason: 'KubeletHasSufficientPID',
          status: 'False',
          type: 'PIDPressure',
        },
        ready
          ? {
              lastHeartbeatTime: observed,
              lastTransitionTime: created,
              message: 'kubelet is posting ready status',
              reason: 'KubeletReady',
              status: 'True',
              type: 'Ready',
            }
          : {
              lastHeartbeatTime: observed,
              lastTransitionTime: spec.readySince ?? observed,
              message: spec.readyMessage ?? 'Kubelet stopped posting node status.',
              reason: spec.readyReason ?? 'NodeStatusUnknown',
              status: 'False',
              type: 'Ready',
            },
        ...(spec.networkUnavailable
          ? [
              {
                lastHeartbeatTime: observed,
                lastTransitionTime: spec.readySince ?? observed,
                message: 'Node network is not ready',
                reason: 'NoRouteCreated',
                status: 'True',
                type: 'NetworkUnavailable',
              },
            ]
          : []),
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: uid(`boot/${spec.name}`),
        containerRuntimeVersion: 'containerd://1.7.22',
        kernelVersion: '5.10.227-219.884.amzn2.x86_64',
        kubeProxyVersion: spec.kubeletVersion,
        kubeletVersion: spec.kubeletVersion,
        machineID: createHash('md5').update(spec.name).digest('hex'),
        operatingSystem: 'linux',
        osImage: 'Amazon Linux 2',
        systemUUID: uid(`sys/${spec.name}`).toUpperCase(),
      },
    },
  };
}

export interface ContainerSpec {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  command?: string[];
  args?: string[];
  env?: { name: string; value: string }[];
  readinessProbe?: Json;
  livenessProbe?: Json;
  resources?: Json;
  volumeMounts?: Json[];
  securityContext?: Json;
}

export type ContainerState =
  | { kind: 'running'; startedAt: string }
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'terminated'; reason: string; exitCode: number; startedAt: string; finishedAt: string };

export interface PodSpec {
  name: string;
  namespace: string;
  node: string;
  hostIP: string;
  podIP: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  owner?: { kind: string; name: string };
  containers: ContainerSpec[];
  hostNetwork?: boolean;
  priorityClassName?: string;
  serviceAccountName?: string;
  volumes?: Json[];
  ready?: boolean;
  phase?: string;
  state?: ContainerState;
  lastState?: ContainerState;
  restartCount?: number;
  readyMessage?: string;
}

function stateJson(state: ContainerState | undefined): Json {
  if (!state) return {};
  if (state.kind === 'running') return { running: { startedAt: state.startedAt } };
  if (state.kind === 'waiting')
    return { waiting: { ...(state.message ? { message: state.message } : {}), reason: state.reason } };
  return {
    terminated: {
      containerID: `containerd://${createHash('sha256').update(state.finishedAt).digest('hex')}`,
      exitCode: state.exitCode,
      finishedAt: state.finishedAt,
      reason: state.reason,
      startedAt: state.startedAt,
    },
  };
}

export function pod(spec: PodSpec, created: string): Json {
  const ready = spec.ready ?? true;
  const phase = spec.phase ?? 'Running';
  const state: ContainerState = spec.state ?? { kind: 'running', startedAt: created };
  const notReadyReason = ready ? undefined : 'ContainersNotReady';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta('Pod', spec.name, spec.namespace, created, {
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
      generateName: spec.owner ? `${spec.name.slice(0, spec.name.lastIndexOf('-') + 1)}` : undefined,
      labels: spec.labels,
      ownerReferences: spec.owner
        ? [
            {
              apiVersion: 'apps/v1',
              blockOwnerDeletion: true,
              controller: true,
              kind: spec.owner.kind,
              name: spec.owner.name,
              uid: uid(`${spec.owner.kind}/${spec.namespace}/${spec.owner.name}`),
            },
          ]
        : undefined,
    }),
    spec: {
      containers: spec.containers.map((c) => ({
        ...(c.args ? { args: c.args } : {}),
        ...(c.command ? { command: c.command } : {}),
        ...(c.env ? { env: c.env } : {}),
        image: c.image,
        imagePullPolicy: 'IfNotPresent',
        ...(c.livenessProbe ? { livenessProbe: c.livenessProbe } : {}),
        name: c.name,
        ...(c.ports
          ? {
              ports: c.ports.map((p) => ({
                containerPort: p.containerPort,
                ...(p.name ? { name: p.name } : {}),
                protocol: p.protocol ?? 'TCP',
              })),
            }
          : {}),
        ...(c.readinessProbe ? { readinessProbe: c.readinessProbe } : {}),
        resources: c.resources ?? {},
        ...(c.securityContext ? { securityContext: c.securityContext } : {}),
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        volumeMounts: [
          ...(c.volumeMounts ?? []),
          {
            mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
            name: `kube-api-access-${spec.name.slice(-5)}`,
            readOnly: true,
          },
        ],
      })),
      dnsPolicy: spec.hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
      enableServiceLinks: true,
      ...(spec.hostNetwork ? { hostNetwork: true } : {}),
      nodeName: spec.node,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: spec.priorityClassName ? 2000001000 : 0,
      ...(spec.priorityClassName ? { priorityClassName: spec.priorityClassName } : {}),
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      serviceAccount: spec.serviceAccountName ?? 'default',
      serviceAccountName: spec.serviceAccountName ?? 'default',
      terminationGracePeriodSeconds: 30,
      tolerations: [
        {
          effect: 'NoExecute',
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          tolerationSeconds: 300,
        },
        {
          effect: 'NoExecute',
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          tolerationSeconds: 300,
        },
      ],
      volumes: [
        ...(spec.volumes ?? []),
        {
          name: `kube-api-access-${spec.name.slice(-5)}`,
          projected: {
            defaultMode: 420,
            sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }],
          },
        },
      ],
    },
    status: {
      conditions: [
        {
          lastProbeTime: null,
          lastTransitionTime: created,
          status: 'True',
          type: 'PodReadyToStartContainers',
        },
        { lastProbeTime: null, lastTransitionTime: created, status: 'True', type: 'Initialized' },
        {
          lastProbeTime: null,
          lastTransitionTime: created,
          ...(ready
            ? {}
            : {
                message: spec.readyMessage ?? `containers with unready status: [${spec.containers[0]?.name}]`,
                reason: notReadyReason,
              }),
          status: ready ? 'True' : 'False',
          type: 'Ready',
        },
        {
          lastProbeTime: null,
          lastTransitionTime: created,
          ...(ready
            ? {}
            : {
                message: spec.readyMessage ?? `containers with unready status: [${spec.containers[0]?.name}]`,
                reason: notReadyReason,
              }),
          status: ready ? 'True' : 'False',
          type: 'ContainersReady',
        },
        { lastProbeTime: null, lastTransitionTime: created, status: 'True', type: 'PodScheduled' },
      ],
      containerStatuses: spec.containers.map((c) => ({
        containerID: `containerd://${createHash('sha256')
          .update(spec.name + c.name)
          .digest('hex')}`,
        image: c.image,
        imageID: `${c.image.split(':')[0]}@sha256:${createHash('sha256').update(c.image).digest('hex')}`,
        lastState: stateJson(spec.lastState),
        name: c.name,
        ready,
        restartCount: spec.restartCount ?? 0,
        started: state.kind === 'running',
        state: stateJson(state),
      })),
      hostIP: spec.hostIP,
      hostIPs: [{ ip: spec.hostIP }],
      phase,
      podIP: spec.podIP,
      podIPs: [{ ip: spec.podIP }],
      qosClass: 'Burstable',
      startTime: created,
    },
  };
}

export interface ServiceSpecInput {
  name: string;
  namespace: string;
  clusterIP: string;
  /** Dual-stack or IPv6: `spec.clusterIPs` and `spec.ipFamilies` (default: the IPv4 clusterIP). */
  clusterIPs?: string[];
  ipFamilies?: string[];
  type?: string;
  ports: { name?: string; port: number; targetPort: number | string; protocol?: string; nodePort?: number }[];
  selector?: Record<string, string>;
  labels?: Record<string, string>;
  externalTrafficPolicy?: string;
  internalTrafficPolicy?: string;
  externalName?: string;
  healthCheckNodePort?: number;
  loadBalancerHostname?: string;
}

export function service(spec: ServiceSpecInput, created: string): Json {
  const type = spec.type ?? 'ClusterIP';
  const external = type === 'NodePort' || type === 'LoadBalancer';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta('Service', spec.name, spec.namespace, created, { labels: spec.labels }),
    spec: {
      clusterIP: spec.clusterIP,
      clusterIPs: spec.clusterIPs ?? [spec.clusterIP],
      ...(external ? { externalTrafficPolicy: spec.externalTrafficPolicy ?? 'Cluster' } : {}),
      ...(spec.healthCheckNodePort ? { healthCheckNodePort: spec.healthCheckNodePort } : {}),
      internalTrafficPolicy: spec.internalTrafficPolicy ?? 'Cluster',
      ipFamilies: spec.ipFamilies ?? ['IPv4'],
      ipFamilyPolicy: (spec.ipFamilies?.length ?? 1) > 1 ? 'RequireDualStack' : 'SingleStack',
      ports: spec.ports.map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        ...(p.nodePort ? { nodePort: p.nodePort } : {}),
        port: p.port,
        protocol: p.protocol ?? 'TCP',
        targetPort: p.targetPort,
      })),
      ...(spec.selector ? { selector: spec.selector } : {}),
      sessionAffinity: 'None',
      type,
    },
    status: {
      loadBalancer: spec.loadBalancerHostname ? { ingress: [{ hostname: spec.loadBalancerHostname }] } : {},
    },
  };
}

export interface SliceEndpoint {
  ip: string;
  node: string;
  pod: string;
  zone: string;
  ready: boolean;
  terminating?: boolean;
}

export function endpointSlice(
  service: { name: string; namespace: string },
  suffix: string,
  ports: { name?: string; port: number; protocol?: string }[],
  endpoints: SliceEndpoint[],
  created: string,
): Json {
  return {
    addressType: 'IPv4',
    apiVersion: 'discovery.k8s.io/v1',
    endpoints:
      endpoints.length === 0
        ? null
        : endpoints.map((e) => ({
            addresses: [e.ip],
            conditions: {
              ready: e.ready,
              serving: e.terminating ? true : e.ready,
              terminating: e.terminating ?? false,
            },
            nodeName: e.node,
            targetRef: {
              kind: 'Pod',
              name: e.pod,
              namespace: service.namespace,
              uid: uid(`Pod/${service.namespace}/${e.pod}`),
            },
            zone: e.zone,
          })),
    kind: 'EndpointSlice',
    metadata: meta('EndpointSlice', `${service.name}-${suffix}`, service.namespace, created, {
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': created },
      generateName: `${service.name}-`,
      generation: 4,
      labels: {
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        'kubernetes.io/service-name': service.name,
      },
      ownerReferences: [
        {
          apiVersion: 'v1',
          blockOwnerDeletion: true,
          controller: true,
          kind: 'Service',
          name: service.name,
          uid: uid(`Service/${service.namespace}/${service.name}`),
        },
      ],
    }),
    ports:
      ports.length === 0
        ? null
        : ports.map((p) => ({
            ...(p.name ? { name: p.name } : { name: '' }),
            port: p.port,
            protocol: p.protocol ?? 'TCP',
          })),
  };
}

export function event(
  namespace: string,
  involved: { kind: string; name: string; namespace?: string },
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  first: string,
  last: string,
  count: number,
  source: { component: string; host?: string },
): Json {
  const name = `${involved.name}.${createHash('sha1')
    .update(reason + message + first)
    .digest('hex')
    .slice(0, 16)}`;
  return {
    apiVersion: 'v1',
    count,
    eventTime: null,
    firstTimestamp: first,
    involvedObject: {
      apiVersion: 'v1',
      kind: involved.kind,
      name: involved.name,
      ...(involved.namespace ? { namespace: involved.namespace } : {}),
      uid: uid(`${involved.kind}/${involved.namespace}/${involved.name}`),
    },
    kind: 'Event',
    lastTimestamp: last,
    message,
    metadata: meta('Event', name, namespace, first),
    reason,
    reportingComponent: source.component,
    reportingInstance: source.host ?? '',
    source,
    type,
  };
}
