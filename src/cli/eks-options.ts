/**
 * `--eks-cluster NAME --region R`: a live diagnosis or `kproxy collect` also reads what the
 * bot reads on an EKS cluster (DescribeCluster, the add-ons, the affected nodes' EC2 path
 * and the control-plane audit log), with AWS credentials from the standard chain. The
 * Kubernetes API is still reached through the kubeconfig context. The AWS SDKs load only
 * when one of these reads runs.
 */

import type { EksClusterConfig } from '../cluster/eks/eks-access.js';
import type { LiveSourceOptions } from '../cluster/live/live-source.js';
import { UsageError } from '../errors.js';

export interface EksOptionValues {
  eksCluster?: string | undefined;
  region?: string | undefined;
  eksRoleArn?: string | undefined;
  awsEndpoints?: string | undefined;
}

const services = { eks: 'endpoint', ec2: 'ec2Endpoint', logs: 'logsEndpoint' } as const;

export function eksProviderFrom(values: EksOptionValues): LiveSourceOptions['provider'] {
  if (!values.eksCluster) {
    if (values.region || values.eksRoleArn || values.awsEndpoints)
      throw new UsageError('--region, --eks-role-arn and --aws-endpoints need --eks-cluster NAME');
    return undefined;
  }
  if (!values.region || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(values.region))
    throw new UsageError(
      `--region "${values.region ?? ''}": --eks-cluster needs an AWS region such as us-west-2`,
    );
  if (values.eksRoleArn && !/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(values.eksRoleArn))
    throw new UsageError(`--eks-role-arn "${values.eksRoleArn}": expected an IAM role ARN`);
  const config: { -readonly [K in keyof EksClusterConfig]: EksClusterConfig[K] } = {
    name: values.eksCluster,
    region: values.region,
    roleArn: values.eksRoleArn,
  };
  for (const pair of values.awsEndpoints ? values.awsEndpoints.split(',') : []) {
    const [service, url] = pair.split(/=(.*)/s) as [string, string | undefined];
    const key = services[service as keyof typeof services];
    if (!key || !url || !URL.canParse(url))
      throw new UsageError(
        `--aws-endpoints "${pair}": expected eks=URL, ec2=URL or logs=URL, comma-separated`,
      );
    config[key] = url;
  }
  let access: Promise<import('../cluster/eks/eks-access.js').EksAccess> | undefined;
  const get = () => {
    access ??= import('../cluster/eks/eks-access.js').then((m) => new m.EksAccess(config));
    return access;
  };
  return {
    readInto: async (bundle) => (await get()).readInto(bundle),
    readNodesInto: async (bundle, nodes, target, until) =>
      (await get()).readNodesInto(bundle, nodes, target, until),
  };
}
