/**
 * The slice of Kubernetes objects kproxy reads, as zod schemas over `kubectl get -o json`
 * output. Objects are loose (unknown fields pass through untouched) and every field
 * kproxy does not strictly need is optional, so real-world objects from any supported
 * Kubernetes version validate, while a file holding the wrong kind does not.
 */
import { z } from 'zod';

// Leaf schemas, one instance for every field of their kind. A zod schema is immutable and
// carries no path (its parent adds the key), so a shared leaf validates and words its
// errors exactly as a fresh one; sharing saves building ~250 zod objects at every start
// of the CLI (each costs its methods' set-up).
const str = z.string();
const optStr = z.string().nullish();
const optStrs = z.array(str).nullish();
const num = z.number();
const optNum = z.number().nullish();
const optBool = z.boolean().nullish();
const stringMap = z.record(str, str).nullish();

export const objectMetaSchema = z.looseObject({
  name: str,
  namespace: optStr,
  uid: optStr,
  labels: stringMap,
  annotations: stringMap,
  creationTimestamp: optStr,
  deletionTimestamp: optStr,
  ownerReferences: z.array(z.looseObject({ kind: str, name: str })).nullish(),
});

export const labelSelectorSchema = z.looseObject({
  matchLabels: stringMap,
  matchExpressions: z.array(z.looseObject({ key: str, operator: str, values: optStrs })).nullish(),
});

const containerPortSchema = z.looseObject({
  name: optStr,
  containerPort: num,
  protocol: optStr,
});

const containerSchema = z.looseObject({
  name: str,
  image: optStr,
  command: optStrs,
  args: optStrs,
  ports: z.array(containerPortSchema).nullish(),
  env: z.array(z.looseObject({ name: str, value: optStr })).nullish(),
  readinessProbe: z.looseObject({}).nullish(),
  resources: z.looseObject({}).nullish(),
  volumeMounts: z.array(z.looseObject({ name: str, mountPath: str })).nullish(),
});

const containerStateSchema = z.looseObject({
  waiting: z.looseObject({ reason: optStr, message: optStr }).nullish(),
  running: z.looseObject({ startedAt: optStr }).nullish(),
  terminated: z
    .looseObject({
      reason: optStr,
      message: optStr,
      exitCode: optNum,
      startedAt: optStr,
      finishedAt: optStr,
    })
    .nullish(),
});

const conditionSchema = z.looseObject({
  type: str,
  status: str,
  reason: optStr,
  message: optStr,
  lastTransitionTime: optStr,
  lastHeartbeatTime: optStr,
});

const volumeSchema = z.looseObject({
  name: str,
  configMap: z.looseObject({ name: optStr }).nullish(),
});

const podSpecSchema = z.looseObject({
  nodeName: optStr,
  hostNetwork: optBool,
  containers: z.array(containerSchema),
  volumes: z.array(volumeSchema).nullish(),
});

export const podSchema = z.looseObject({
  kind: z.literal('Pod').optional(),
  metadata: objectMetaSchema,
  spec: podSpecSchema,
  status: z
    .looseObject({
      phase: optStr,
      reason: optStr,
      podIP: optStr,
      podIPs: z.array(z.looseObject({ ip: str })).nullish(),
      hostIP: optStr,
      startTime: optStr,
      conditions: z.array(conditionSchema).nullish(),
      containerStatuses: z
        .array(
          z.looseObject({
            name: str,
            ready: z.boolean(),
            restartCount: num,
            image: optStr,
            state: containerStateSchema.nullish(),
            lastState: containerStateSchema.nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});

export const servicePortSchema = z.looseObject({
  name: optStr,
  protocol: optStr,
  port: num,
  targetPort: z.union([num, str]).nullish(),
  nodePort: optNum,
});

export const serviceSchema = z.looseObject({
  kind: z.literal('Service').optional(),
  metadata: objectMetaSchema,
  spec: z.looseObject({
    type: optStr,
    clusterIP: optStr,
    clusterIPs: optStrs,
    ipFamilies: optStrs,
    ipFamilyPolicy: optStr,
    selector: stringMap,
    ports: z.array(servicePortSchema).nullish(),
    externalName: optStr,
    externalIPs: optStrs,
    externalTrafficPolicy: optStr,
    internalTrafficPolicy: optStr,
    healthCheckNodePort: optNum,
    publishNotReadyAddresses: optBool,
    sessionAffinity: optStr,
    loadBalancerClass: optStr,
  }),
  status: z
    .looseObject({
      loadBalancer: z
        .looseObject({
          ingress: z.array(z.looseObject({ ip: optStr, hostname: optStr })).nullish(),
        })
        .nullish(),
    })
    .nullish(),
});

export const endpointSliceSchema = z.looseObject({
  kind: z.literal('EndpointSlice').optional(),
  metadata: objectMetaSchema,
  addressType: str,
  endpoints: z
    .array(
      z.looseObject({
        addresses: z.array(str),
        conditions: z
          .looseObject({
            ready: optBool,
            serving: optBool,
            terminating: optBool,
          })
          .nullish(),
        nodeName: optStr,
        zone: optStr,
        targetRef: z
          .looseObject({
            kind: optStr,
            name: optStr,
            namespace: optStr,
          })
          .nullish(),
      }),
    )
    .nullish(),
  ports: z
    .array(
      z.looseObject({
        name: optStr,
        port: optNum,
        protocol: optStr,
      }),
    )
    .nullish(),
});

export const nodeSchema = z.looseObject({
  kind: z.literal('Node').optional(),
  metadata: objectMetaSchema,
  spec: z
    .looseObject({
      unschedulable: optBool,
      podCIDR: optStr,
      providerID: optStr,
      taints: z.array(z.looseObject({ key: str, effect: str, value: optStr })).nullish(),
    })
    .nullish(),
  status: z
    .looseObject({
      conditions: z.array(conditionSchema).nullish(),
      addresses: z.array(z.looseObject({ type: str, address: str })).nullish(),
      nodeInfo: z
        .looseObject({
          kubeletVersion: optStr,
          kubeProxyVersion: optStr,
          kernelVersion: optStr,
          osImage: optStr,
          containerRuntimeVersion: optStr,
        })
        .nullish(),
    })
    .nullish(),
});

export const daemonSetSchema = z.looseObject({
  kind: z.literal('DaemonSet').optional(),
  metadata: objectMetaSchema,
  spec: z.looseObject({
    selector: labelSelectorSchema.nullish(),
    template: z.looseObject({
      metadata: z.looseObject({ labels: stringMap, annotations: stringMap }).nullish(),
      spec: podSpecSchema,
    }),
  }),
  status: z
    .looseObject({
      desiredNumberScheduled: optNum,
      currentNumberScheduled: optNum,
      numberReady: optNum,
      numberAvailable: optNum,
      numberUnavailable: optNum,
      numberMisscheduled: optNum,
      updatedNumberScheduled: optNum,
    })
    .nullish(),
});

export const deploymentSchema = z.looseObject({
  kind: z.literal('Deployment').optional(),
  metadata: objectMetaSchema,
  spec: z.looseObject({ replicas: optNum, selector: labelSelectorSchema.nullish() }).nullish(),
  status: z
    .looseObject({
      replicas: optNum,
      readyReplicas: optNum,
      availableReplicas: optNum,
    })
    .nullish(),
});

export const configMapSchema = z.looseObject({
  kind: z.literal('ConfigMap').optional(),
  metadata: objectMetaSchema,
  data: stringMap,
});

const networkPolicyPortSchema = z.looseObject({
  port: z.union([num, str]).nullish(),
  endPort: optNum,
  protocol: optStr,
});

const networkPolicyPeerSchema = z.looseObject({
  podSelector: labelSelectorSchema.nullish(),
  namespaceSelector: labelSelectorSchema.nullish(),
  ipBlock: z.looseObject({ cidr: str, except: optStrs }).nullish(),
});

export const networkPolicySchema = z.looseObject({
  kind: z.literal('NetworkPolicy').optional(),
  metadata: objectMetaSchema,
  spec: z.looseObject({
    podSelector: labelSelectorSchema,
    policyTypes: optStrs,
    ingress: z
      .array(
        z.looseObject({
          from: z.array(networkPolicyPeerSchema).nullish(),
          ports: z.array(networkPolicyPortSchema).nullish(),
        }),
      )
      .nullish(),
    egress: z
      .array(
        z.looseObject({
          to: z.array(networkPolicyPeerSchema).nullish(),
          ports: z.array(networkPolicyPortSchema).nullish(),
        }),
      )
      .nullish(),
  }),
});

/** A Deployment, StatefulSet or DaemonSet as far as naming a client goes: its pod selector. */
export const workloadSchema = z.looseObject({
  kind: str.optional(),
  metadata: objectMetaSchema,
  spec: z.looseObject({ selector: labelSelectorSchema.nullish() }).nullish(),
});

export const namespaceSchema = z.looseObject({
  kind: z.literal('Namespace').optional(),
  metadata: objectMetaSchema,
});

export const eventSchema = z.looseObject({
  kind: z.literal('Event').optional(),
  metadata: objectMetaSchema,
  type: optStr,
  reason: optStr,
  message: optStr,
  count: optNum,
  firstTimestamp: optStr,
  lastTimestamp: optStr,
  eventTime: optStr,
  involvedObject: z.looseObject({
    kind: optStr,
    name: optStr,
    namespace: optStr,
  }),
  source: z.looseObject({ component: optStr, host: optStr }).nullish(),
});

export const versionInfoSchema = z.looseObject({
  major: str,
  minor: str,
  gitVersion: str,
  platform: optStr,
});

export const eksClusterSchema = z.looseObject({
  cluster: z.looseObject({ name: str, version: optStr, endpoint: optStr }),
});

export const eksAddonSchema = z.looseObject({
  addon: z.looseObject({
    addonName: str,
    addonVersion: optStr,
    status: optStr,
    configurationValues: optStr,
  }),
});

export type ObjectMeta = z.infer<typeof objectMetaSchema>;
export type LabelSelector = z.infer<typeof labelSelectorSchema>;
export type Pod = z.infer<typeof podSchema>;
export type Container = z.infer<typeof containerSchema>;
export type Service = z.infer<typeof serviceSchema>;
export type ServicePort = z.infer<typeof servicePortSchema>;
export type EndpointSlice = z.infer<typeof endpointSliceSchema>;
export type Node = z.infer<typeof nodeSchema>;
export type DaemonSet = z.infer<typeof daemonSetSchema>;
export type Deployment = z.infer<typeof deploymentSchema>;
export type ConfigMap = z.infer<typeof configMapSchema>;
export type NetworkPolicy = z.infer<typeof networkPolicySchema>;
export type KubeEvent = z.infer<typeof eventSchema>;
export type VersionInfo = z.infer<typeof versionInfoSchema>;
export type EksCluster = z.infer<typeof eksClusterSchema>;
export type EksAddon = z.infer<typeof eksAddonSchema>;
export type Workload = z.infer<typeof workloadSchema>;
