/** Options shared by the commands: the target (diagnose, collect) and a live cluster. */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

export interface TargetOptions {
  service?: string;
  node?: string;
  from?: string;
  ingress?: string;
  httproute?: string;
  clusterWide?: boolean;
}

/** The route target of `--ingress` / `--httproute` (at most one). */
export function routeOption(
  values: TargetOptions,
): { kind: 'Ingress' | 'HTTPRoute'; value: string } | undefined {
  if (values.ingress !== undefined && values.httproute !== undefined)
    throw new UsageError('--ingress and --httproute exclude each other');
  if (values.ingress !== undefined) return { kind: 'Ingress', value: values.ingress };
  if (values.httproute !== undefined) return { kind: 'HTTPRoute', value: values.httproute };
  return undefined;
}

export function addTargetOptions(c: Command, defaults: string, from: string): Command {
  return c
    .option('--service <ns/name>', `the Service clients cannot reach (${defaults})`)
    .option('--node <node>', `a node where clients fail (${defaults})`)
    .option('--from <ns/name>', `the failing client (Pod, Deployment, StatefulSet or DaemonSet): ${from}`)
    .option(
      '--ingress <ns/name>',
      'the Ingress clients go through: its backends, controller and load balancer',
    )
    .option('--httproute <ns/name>', 'the Gateway API HTTPRoute clients go through: its backends')
    .option('--cluster-wide', 'no Service target: kube-proxy health on every node (or --node)');
}

export function addLiveOptions(c: Command): Command {
  return c
    .option('--context <ctx>', 'kubeconfig context of the cluster')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
    .option(
      '--node-captures <mode>',
      "off | exec (default: iptables-save/nft in the node's kube-proxy pod) | debug-pod (a short-lived privileged pod on the node runs every capture)",
    )
    .option(
      '--debug-image <image>',
      'image of the capture pod (default: docker.io/nicolaka/netshoot:v0.13 pinned by digest)',
    )
    .option(
      '--proxy-via <via>',
      "nodes (default: kube-proxy's healthz/metrics via nodes/proxy) | pods (via pods/proxy on the kube-proxy pods: no nodes/proxy needed)",
    )
    .option('--debug-namespace <ns>', 'namespace of the capture pod (default: kube-system)')
    .option(
      '--probe <mode>',
      "off (default) | debug-pod: a short-lived pod on the client's (or target) node tries the Service's name, VIP, endpoints, NodePort and the API server",
    )
    .option(
      '--probe-namespace <ns>',
      "namespace of the probe pod without --from, or when the client's refuses it (default: kube-system)",
    )
    .option('--request-timeout <seconds>', 'seconds per API request (default: 10)')
    .option(
      '--eks-cluster <name>',
      "an EKS cluster: also read its description and add-ons, the nodes' path to the control plane (EC2) and the audit log (CloudWatch)",
    )
    .option('--region <region>', 'AWS region of --eks-cluster')
    .option('--eks-role-arn <arn>', 'IAM role to assume for the AWS reads')
    .option(
      '--aws-endpoints <list>',
      'eks=URL,ec2=URL,logs=URL: VPC endpoints (or test doubles) of those APIs',
    );
}
