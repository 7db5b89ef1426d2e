/**
 * ClusterView: the read-only slice of one cluster that a diagnosis needs, fetched once
 * by a source (bundle files or the live API) and then only read by the checks.
 */
import type { ClientRef, ClientView } from './client.js';
import type { Collected } from './collected.js';
import type { AuditEvent, EksNetwork } from './eks/ec2-types.js';
import type {
  ConfigMap,
  DaemonSet,
  Deployment,
  EksAddon,
  EksCluster,
  EndpointSlice,
  KubeEvent,
  NetworkPolicy,
  Node,
  Pod,
  Service,
  VersionInfo,
} from './kube-types.js';
import type { RouteRef } from './north-south/types.js';
import type { NorthSouthView } from './north-south/view.js';
import type { ProbeMatrix } from './probe/matrix.js';

/** What the incident is about. Any field may be absent (cluster-wide kube-proxy health). */
export interface Target {
  readonly namespace?: string | undefined;
  readonly service?: string | undefined;
  readonly node?: string | undefined;
  /** The failing client (`--from NS/NAME`): a Pod, Deployment, StatefulSet or DaemonSet. */
  readonly from?: ClientRef | undefined;
  /** The Ingress or HTTPRoute clients go through (its first Service backend is the target Service). */
  readonly route?: RouteRef | undefined;
}

/** The last lines of a container log, read with bounded memory. */
export interface LogTail {
  readonly lines: readonly string[];
  /** True when earlier lines were dropped to stay within the bound. */
  readonly truncated: boolean;
}

export interface PodLogs {
  readonly pod: string;
  readonly container: string;
  readonly current: Collected<LogTail>;
  readonly previous: Collected<LogTail>;
}

/** Raw captures from one node, byte for byte what the named command printed. */
export interface NodeCaptures {
  readonly node: string;
  /** Body of kube-proxy's :10256/healthz. */
  readonly healthz: Collected<string>;
  /** Prometheus text of kube-proxy's :10249/metrics. */
  readonly metrics: Collected<string>;
  /** Body of :10249/proxyMode. */
  readonly proxyMode: Collected<string>;
  readonly iptablesSave: Collected<string>;
  /** ip6tables-save: the IPv6 rules of the iptables mode (dual-stack and IPv6 clusters). */
  readonly ip6tablesSave: Collected<string>;
  readonly ipvsadm: Collected<string>;
  readonly nft: Collected<string>;
  readonly conntrack: Collected<string>;
  readonly sysctl: Collected<string>;
  readonly dmesg: Collected<string>;
  readonly lsmod: Collected<string>;
  readonly ipLink: Collected<string>;
}

/** The kube-proxy ConfigMap the DaemonSet mounts (EKS `kube-proxy-config`, kubeadm `kube-proxy`). */
export interface KubeProxyConfigMap {
  readonly configMap: ConfigMap;
  /** The data key holding the KubeProxyConfiguration (`config`, `config.conf`). */
  readonly key: string | undefined;
}

export interface ClusterView {
  readonly cluster: string;
  /** When the state was observed: the bundle's collectedAt, or now for a live cluster. */
  readonly observedAt: Date;
  /** Where the view came from, for the report ("bundle ./x", "context prod-east"). */
  readonly origin: string;
  readonly target: Target;

  readonly version: Collected<VersionInfo>;
  /** Nodes of the node list: a bundle's view holds only the nodes in scope (checks/lib/scope.ts). */
  readonly nodes: Collected<readonly Node[]>;
  /** Every node name of the node list, when `nodes` holds only the nodes in scope. */
  readonly nodeNames?: Collected<readonly string[]>;

  /** The target Service; `undefined` inside `collected` means it does not exist. */
  readonly service: Collected<Service | undefined>;
  /** EndpointSlices labelled kubernetes.io/service-name=<target>. */
  readonly endpointSlices: Collected<readonly EndpointSlice[]>;
  /** Pods in the target namespace (the checks apply the Service selector themselves). */
  readonly namespacePods: Collected<readonly Pod[]>;
  /** The client named by `target.from` (undefined when none is named). */
  readonly client: Collected<ClientView> | undefined;
  /** NetworkPolicies in the target namespace. */
  readonly networkPolicies: Collected<readonly NetworkPolicy[]>;
  /** Events of the target namespace, kube-system and default (node events live there). */
  readonly events: Collected<readonly KubeEvent[]>;

  readonly kubeProxy: {
    readonly daemonSet: Collected<DaemonSet | undefined>;
    /** Pods labelled k8s-app=kube-proxy. */
    readonly pods: Collected<readonly Pod[]>;
    readonly configMap: Collected<KubeProxyConfigMap | undefined>;
    /** Logs by pod name. A pod absent here had no logs collected. */
    readonly logs: ReadonlyMap<string, PodLogs>;
  };

  readonly dns: {
    readonly service: Collected<Service | undefined>;
    readonly endpointSlices: Collected<readonly EndpointSlice[]>;
    readonly pods: Collected<readonly Pod[]>;
    readonly deployment: Collected<Deployment | undefined>;
  };

  /** kube-system DaemonSets other than kube-proxy (CNI agents such as aws-node, calico-node). */
  readonly systemDaemonSets: Collected<readonly DaemonSet[]>;
  /** kube-system pods of CNI agents. */
  readonly cniPods: Collected<readonly Pod[]>;

  /** Captures by node name; a node absent here had none collected. */
  readonly nodeCaptures: ReadonlyMap<string, NodeCaptures>;

  readonly eks: {
    readonly cluster: Collected<EksCluster>;
    readonly addons: ReadonlyMap<string, Collected<EksAddon>>;
    /** EC2 data of the node → control-plane path (`eks/ec2/*.json`); absent where never read. */
    readonly network?: EksNetwork;
    /** Control-plane audit events around the incident (`eks/audit.jsonl`). */
    readonly audit?: Collected<readonly AuditEvent[]>;
  };

  /**
   * The client's-eye probe's matrix by the node it ran from (`probe/<node>/matrix.txt`).
   * Absent or empty: the probe was not enabled for this cluster.
   */
  readonly probes?: ReadonlyMap<string, Collected<ProbeMatrix>>;
  /** Ingress/HTTPRoute, their controllers, LoadBalancer and target groups: with a route target or a LoadBalancer Service. */
  readonly northSouth?: NorthSouthView | undefined;
}
