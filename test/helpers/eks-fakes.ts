/** The EKS, EC2 and CloudWatch Logs fakes for one served bundle, and the EksAccess that uses them. */
import { EksAccess } from '../../src/cluster/eks/eks-access.js';
import { FakeCloudWatchLogs } from './fake-cloudwatch-logs.js';
import { FakeEc2 } from './fake-ec2.js';
import { FakeEks } from './fake-eks.js';

export interface EksFakes {
  readonly eks: FakeEks;
  readonly ec2: FakeEc2;
  readonly logs: FakeCloudWatchLogs;
  readonly access: EksAccess;
  readonly urls: { readonly eks: string; readonly ec2: string; readonly logs: string };
  stop(): Promise<void>;
}

export async function startEksFakes(
  bundleDir: string,
  apiServerUrl: string,
  cluster = 'prod-east',
  configure: (f: { ec2: FakeEc2; logs: FakeCloudWatchLogs }) => void = () => {},
): Promise<EksFakes> {
  const eks = new FakeEks(bundleDir, apiServerUrl);
  const ec2 = new FakeEc2(bundleDir);
  const logs = new FakeCloudWatchLogs(bundleDir, cluster);
  const [eksUrl, ec2Url, logsUrl] = await Promise.all([eks.start(), ec2.start(), logs.start()]);
  configure({ ec2, logs });
  const access = new EksAccess(
    { name: cluster, region: 'us-west-2', endpoint: eksUrl, ec2Endpoint: ec2Url, logsEndpoint: logsUrl },
    {
      credentials: async () => ({
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      }),
    },
  );
  return {
    eks,
    ec2,
    logs,
    access,
    urls: { eks: eksUrl, ec2: ec2Url, logs: logsUrl },
    stop: async () => {
      await Promise.all([eks.stop(), ec2.stop(), logs.stop()]);
    },
  };
}
