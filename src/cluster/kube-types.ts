/**
 * The slice of Kubernetes objects kproxy reads, as zod schemas over `kubectl get -o json`
 * output. Objects are loose (unknown fields pass through untouched) and every field
 * kproxy does not strictly need is optional, so real-world objects from any supported
 * Kubernetes version validate, while a file holding the wrong kind does not.
 */
import { z } from 'zod';

const stringMap = z.record(z.string(), z.string()).nullish();

export const objectMetaSchema = z.looseObject({
  name: z.string(),
  namespace: z.string().nullish(),
  uid: z.string().nullish(),
  labels: stringMap,
  annotations: stringMap,
  creationTimestamp: z.string().nullish(),
  deletionTimestamp: z.string().nullish(),
  ownerReferences: z.array(z.looseObject({ kind: z.string(), name: z.string() })).nullish(),
});

export const labelSelectorSchema = z.looseObject({
  matchLabels: stringMap,
  matchExpressions: z
    .array(z.looseObject({ key: z.string(), operator: z.string(), values: z.array(z.string()).nullish() }))
    .nullish(),
});

const containerPortSchema = z.looseObject({
  name: z.string().nullish(),
  containerPort: z.number(),
  protocol: z.string().nullish(),
});

const containerSchema = z.looseObject({
  name: z.string(),
  image: z.string().nullish(),
  command: z.array(z.string()).nullish(),
  args: z.array(z.string()).nullish(),
  ports: z.array(containerPortSchema).nullish(),
  env: z.array(z.looseObject({ name: z.string(), value: z.string().nullish() })).nullish(),
  readinessProbe: z.looseObject({}).nullish(),
  resources: z.looseObject({}).nullish(),
  volumeMounts: z.array(z.looseObject({ name: z.string(), mountPath: z.string() })).nullish(),
});

const containerStateSchema = z.looseObject({
  waiting: z.looseObject({ reason: z.string().nullish(), message: z.string().nullish() }).nullish(),
  running: z.looseObject({ startedAt: z.string().nullish() }).nullish(),
  terminated: z
    .looseObject({
      reason: z.string().nullish(),
      message: z.string().nullish(),
      exitCode: z.number().nullish(),
      startedAt: z.string().nullish(),
      finishedAt: z.string().nullish(),
    })
    .nullish(),
});

const conditionSchema = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: z.string().nullish(),
  message: z.string().nullish(),
  lastTransitionTime: z.string().nullish(),
  lastHeartbeatTime: z.string().nullish(),
});

const volumeSchema = z.looseObject({
  name: z.string(),
  configMap: z.looseObject({ name: z.string().nullish() }).nullish(),
});

const podSpecSchema = z.looseObject({
  nodeName: z.string().nullish(),
  hostNetwork: z.boolean().nullish(),
  containers: z.array(containerSchema),
  volumes: z.array(volumeSchema).nullish(),
});

export const podSchema = z.looseObject({
  kind: z.literal('Pod').optional(),
  metadata: objectMetaSchema,
  spec: podSpecSchema,
  status: z
    .looseObject({
      phase: z.string().nullish(),
      reason: z.string().nullish(),
      podIP: z.string().nullish(),
      podIPs: z.array(z.looseObject({ ip: z.string() })).nullish(),
      hostIP: z.string().nullish(),
      startTime: z.string().nullish(),
      conditions: z.array(conditionSchema).nullish(),
      containerStatuses: z
        .array(
          z.looseObject({
            name: z.string(),
            ready: z.boolean(),
            restartCount: z.number(),
            image: z.string().nullish(),
            state: containerStateSchema.nullish(),
            lastState: containerStateSchema.nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});

export const servicePortSchema = z.looseObject({
  name: z.string().nullish(),
  protocol: z.string().nullish(),
  port: z.number(),
  targetPort: z.union([z.number(), z.string()]).nullish(),
  nodePort: z.number().nullish(),
});

export const serviceSchema = z.looseObject({
  kind: z.literal('Service').optional(),
  metadata: objectMetaSchema,
  spec: z.looseObject({
    type: z.string().nullish(),
    clusterIP: z.string().nullish(),
    clusterIPs: z.array(z.string()).nullish(),
    ipFamilies: z.array(z.string()).nullish(),
    ipFamilyPolicy: z.string().nullish(),
    selector: stringMap,
    ports: z.array(servicePortSchema).nullish(),
    externalName: z.string().nullish(),
    externalIPs: z.array(z.string()).nullish(),
    externalTrafficPolicy: z.string().nullish(),
    internalTrafficPolicy: z.string().nullish(),
    healthCheckNodePort: z.number().nullish(),
    publishNotReadyAddresses: z.boolean().nullish(),
    sessionAffinity: z.string().nullish(),
    loadBalancerClass: z.string().nullish(),
  }),
  status: z
    .looseObject({
      loadBalancer: z
        .looseObject({
          ingress: z
            .array(z.looseObject({ ip: z.string().nullish(), hostname: z.string().nullish() }))
            .nullish(),
        })
        .nullish(),
    })
    .nullish(),
});

export const endpointSliceSchema = z.looseObject({
  kind: z.literal('EndpointSlice').optional(),
  metadata: objectMetaSchema,
  addressType: z.string(),
  endpoints: z
    .array(
      z.looseObject({
        addresses: z.array(z.string()),
        conditions: z
          .looseObject({
            ready: z.boolean().nullish(),
            serving: z.boolean().nullish(),
            terminating: z.boolean().nullish(),
          })
          .nullish(),
        nodeName: z.string().nullish(),
        zone: z.string().nullish(),
        targetRef: z
          .looseObject({
            kind: z.string().nullish(),
            name: z.string().nullish(),
            namespace: z.string().nullish(),
          })
          .nullish(),
      }),
    )
    .nullish(),
  ports: z
    .array(
      z.looseObject({
        name: z.string().nullish(),
        port: z.number().nullish(),
        protocol: z.string().nullish(),
      }),
    )
    .nullish(),
});

export const nodeSchema = z.looseObject({
  kind: z.literal('Node').optional(),
  metadata: objectMetaSchema,
  spec: z
    .looseObject({
      unschedulable: z.boolean().nullish(),
      podCIDR: z.string().nullish(),
      providerID: z.string().nullish(),
      taints: z
        .array(z.looseObject({ key: z.string(), effect: z.string(), value: z.string().nullish() }))
        .nullish(),
    })
    .nullish(),
  status: z
    .looseObject({
      conditions: z.array(conditionSchema).nullish(),
      addresses: z.array(z.looseObject({ type: z.string(), address: z.string() })).nullish(),
      nodeInfo: z
        .looseObject({
          kubeletVersion: z.string().nullish(),
          kubeProxyVersion: z.string().nullish(),
          kernelVersion: z.string().nullish(),
          osImage: z.string().nullish(),
          containerRuntimeVersion: z.string().nullish(),
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
      desiredNumberScheduled: z.number().nullish(),
      currentNumberScheduled: z.number().nullish(),
      numberReady: z.number().nullish(),
      numberAvailable: z.number().nullish(),
      numberUnavailable: z.number().nullish(),
      numberMisscheduled: z.number().nullish(),
      updatedNumberScheduled: z.number().nullish(),
    })
    .nullish(),
});

export const deploymentSchema = z.looseObject({
  kind: z.literal('Deployment').optional(),
  metadata: objectMetaSchema,
  spec: z.looseObject({ replicas: z.number().nullish(), selector: labelSelectorSchema.nullish() }).nullish(),
  status: z
    .looseObject({
      replicas: z.number().nullish(),
      readyReplicas: z.number().nullish(),
      availableReplicas: z.number().nullish(),
    })
    .nullish(),
});

export const configMapSchema = z.looseObject({
  kind: z.literal('ConfigMap').optional(),
  metadata: objectMetaSchema,
  data: stringMap,
});

const networkPolicyPortSchema = z.looseObject({
  port: z.union([z.number(), z.string()]).nullish(),
  endPort: z.number().nullish(),
  protocol: z.string().nullish(),
});

const networkPolicyPeerSchema = z.looseObject({
  podSelector: labelSelectorSchema.nullish(),
  namespaceSelector: labelSelectorSchema.nullish(),
  ipBlock: z.looseObject({ cidr: z.string(), except: z.array(z.string()).nullish() }).nullish(),
});

export const networkPolicySchema = z.looseObject({
  kind: z.literal('NetworkPolicy').optional(),
  metadata: objectMetaSchema,
  spec: z.looseObject({
    podSelector: labelSelectorSchema,
    policyTypes: z.array(z.string()).nullish(),
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
  kind: z.string().optional(),
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
  type: z.string().nullish(),
  reason: z.string().nullish(),
  message: z.string().nullish(),
  count: z.number().nullish(),
  firstTimestamp: z.string().nullish(),
  lastTimestamp: z.string().nullish(),
  eventTime: z.string().nullish(),
  involvedObject: z.looseObject({
    kind: z.string().nullish(),
    name: z.string().nullish(),
    namespace: z.string().nullish(),
  }),
  source: z.looseObject({ component: z.string().nullish(), host: z.string().nullish() }).nullish(),
});

export const versionInfoSchema = z.looseObject({
  major: z.string(),
  minor: z.string(),
  gitVersion: z.string(),
  platform: z.string().nullish(),
});

export const eksClusterSchema = z.looseObject({
  cluster: z.looseObject({ name: z.string(), version: z.string().nullish(), endpoint: z.string().nullish() }),
});

export const eksAddonSchema = z.looseObject({
  addon: z.looseObject({
    addonName: z.string(),
    addonVersion: z.string().nullish(),
    status: z.string().nullish(),
    configurationValues: z.string().nullish(),
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
