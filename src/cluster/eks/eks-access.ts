/**
 * Access to an EKS cluster: endpoint and CA from DescribeCluster, a bearer token from a
 * presigned STS request (cached 10 minutes, so a token taken for a request has at least 5 of
 * its 15 minutes left; KubeHttp asks for it per request, since an action can outlast it), and
 * the add-on descriptions (kube-proxy, vpc-cni, coredns) the version-skew check reads.
 */
import {
  DescribeAddonCommand,
  DescribeAddonVersionsCommand,
  type DescribeAddonVersionsCommandOutput,
  DescribeClusterCommand,
  type DescribeClusterCommandOutput,
  DescribeUpdateCommand,
  EKSClient,
  UpdateAddonCommand,
} from '@aws-sdk/client-eks';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { KubeConfig } from '@kubernetes/client-node';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { AddonState, AddonUpdate, EksAddonApi } from '../../approvals/plan.js';
import { KproxyError } from '../../errors.js';
import type { MemoryBundle } from '../bundle/memory.js';
import { eksAddonNames } from '../bundle/view-reads.js';
import type { Fetched } from '../live/kube-http.js';
import type { Target } from '../view.js';
import { readEksPathInto } from './eks-path-reads.js';
import { eksToken } from './token.js';

export interface EksClusterConfig {
  readonly name: string;
  readonly region: string;
  readonly roleArn?: string | undefined;
  /** A VPC endpoint of the EKS API (or a test double). */
  readonly endpoint?: string | undefined;
  /** Endpoints of EC2 and CloudWatch Logs (VPC endpoints, or test doubles). */
  readonly ec2Endpoint?: string | undefined;
  readonly logsEndpoint?: string | undefined;
}

/** Tokens are valid 15 minutes; use one for at most 10. */
const tokenLifetimeMs = 10 * 60 * 1000;

export class EksAccess implements EksAddonApi {
  private readonly eks: EKSClient;
  private readonly credentials: AwsCredentialIdentityProvider;
  private cachedToken: { value: string; expires: number } | undefined;
  private cluster: { endpoint: string; caData: string; raw: unknown } | undefined;

  constructor(
    private readonly config: EksClusterConfig,
    options: { credentials?: AwsCredentialIdentityProvider; now?: () => number } = {},
  ) {
    const base = options.credentials ?? fromNodeProviderChain();
    this.credentials = config.roleArn
      ? fromTemporaryCredentials({
          masterCredentials: base,
          params: { RoleArn: config.roleArn, RoleSessionName: 'kproxy' },
          clientConfig: { region: config.region },
        })
      : base;
    this.eks = new EKSClient({
      region: config.region,
      credentials: this.credentials,
      maxAttempts: 3,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    });
    this.now = options.now ?? Date.now;
  }

  private readonly now: () => number;

  /** A KubeConfig for the cluster with a current token. */
  async kubeConfig(contextName: string): Promise<KubeConfig> {
    const cluster = await this.describe();
    const token = await this.currentToken();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: contextName,
          server: cluster.endpoint,
          caData: cluster.caData,
          skipTLSVerify: cluster.endpoint.startsWith('http://'),
        },
      ],
      users: [{ name: 'kproxy', token }],
      contexts: [{ name: contextName, cluster: contextName, user: 'kproxy' }],
      currentContext: contextName,
    });
    return kc;
  }

  /** `eks/cluster.json` and `eks/addons/<name>.json` of a bundle, as the AWS CLI prints them. */
  async readInto(bundle: MemoryBundle): Promise<void> {
    try {
      bundle.set('eks/cluster.json', {
        content: JSON.stringify({ cluster: (await this.describe()).raw }, null, 4),
      });
    } catch (error) {
      bundle.set('eks/cluster.json', { missing: `eks DescribeCluster failed: ${message(error)}` });
    }
    await Promise.all(
      eksAddonNames.map(async (addonName) => {
        try {
          const out = await this.eks.send(
            new DescribeAddonCommand({ clusterName: this.config.name, addonName }),
          );
          bundle.set(`eks/addons/${addonName}.json`, {
            content: JSON.stringify({ addon: out.addon }, null, 4),
          });
        } catch (error) {
          bundle.set(`eks/addons/${addonName}.json`, {
            missing: `eks DescribeAddon ${addonName}: ${message(error)}`,
          });
        }
      }),
    );
  }

  /** After the node reads: the affected nodes' EC2 path and the audit log (eks-path-reads.ts). */
  async readNodesInto(
    bundle: MemoryBundle,
    nodes: readonly string[],
    target: Target,
    until: Date,
  ): Promise<void> {
    let raw: unknown;
    try {
      raw = (await this.describe()).raw;
    } catch {
      return; // eks/cluster.json already records why DescribeCluster failed.
    }
    await readEksPathInto(
      bundle,
      { ...this.config, credentials: this.credentials },
      raw,
      nodes,
      target,
      until,
    );
  }

  get clusterName(): string {
    return this.config.name;
  }

  async controlPlaneVersion(): Promise<Fetched<string>> {
    return this.call('DescribeCluster', async () => {
      const out = await this.eks.send(new DescribeClusterCommand({ name: this.config.name }));
      if (!out.cluster?.version) throw new Error('DescribeCluster returned no version');
      return out.cluster.version;
    });
  }

  async addon(name: string): Promise<Fetched<AddonState | undefined>> {
    return this.call('DescribeAddon', async () => {
      try {
        const out = await this.eks.send(
          new DescribeAddonCommand({ clusterName: this.config.name, addonName: name }),
        );
        const a = out.addon;
        return a?.addonVersion
          ? {
              version: a.addonVersion,
              status: a.status ?? 'UNKNOWN',
              configurationValues: a.configurationValues,
            }
          : undefined;
      } catch (error) {
        if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    });
  }

  async defaultAddonVersion(name: string, kubernetesVersion: string): Promise<Fetched<string | undefined>> {
    return this.call('DescribeAddonVersions', async () => {
      const versions: { version: string; isDefault: boolean }[] = [];
      let nextToken: string | undefined;
      do {
        const out: DescribeAddonVersionsCommandOutput = await this.eks.send(
          new DescribeAddonVersionsCommand({ addonName: name, kubernetesVersion, nextToken }),
        );
        for (const addon of out.addons ?? [])
          for (const v of addon.addonVersions ?? []) {
            const compat = (v.compatibilities ?? []).filter((c) => c.clusterVersion === kubernetesVersion);
            if (v.addonVersion && compat.length > 0)
              versions.push({
                version: v.addonVersion,
                isDefault: compat.some((c) => c.defaultVersion === true),
              });
          }
        nextToken = out.nextToken;
      } while (nextToken);
      return (
        versions.find((v) => v.isDefault) ?? versions.sort((a, b) => compareVersions(b.version, a.version))[0]
      )?.version;
    });
  }

  async updateAddon(input: AddonUpdate, idempotencyToken: string): Promise<Fetched<{ updateId: string }>> {
    return this.call('UpdateAddon', async () => {
      const out = await this.eks.send(
        new UpdateAddonCommand({
          clusterName: this.config.name,
          addonName: input.addonName,
          addonVersion: input.addonVersion,
          configurationValues: input.configurationValues,
          resolveConflicts: input.resolveConflicts,
          clientRequestToken: idempotencyToken,
        }),
      );
      if (!out.update?.id) throw new Error('UpdateAddon returned no update id');
      return { updateId: out.update.id };
    });
  }

  async updateStatus(
    updateId: string,
    addonName: string,
  ): Promise<Fetched<{ status: string; errors: string[] }>> {
    return this.call('DescribeUpdate', async () => {
      const out = await this.eks.send(
        new DescribeUpdateCommand({ name: this.config.name, updateId, addonName }),
      );
      return {
        status: out.update?.status ?? 'Unknown',
        errors: (out.update?.errors ?? []).map((e) => `${e.errorCode ?? 'Error'}: ${e.errorMessage ?? ''}`),
      };
    });
  }

  /** An EKS call as a `Fetched`: errors name the operation (and the IAM action it needs). */
  private async call<T>(operation: string, run: () => Promise<T>): Promise<Fetched<T>> {
    try {
      return { ok: true, value: await run() };
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
      return { ok: false, status, reason: `eks:${operation} failed: ${message(error)}` };
    }
  }

  private async describe(): Promise<{ endpoint: string; caData: string; raw: unknown }> {
    if (this.cluster) return this.cluster;
    let out: DescribeClusterCommandOutput;
    try {
      out = await this.eks.send(new DescribeClusterCommand({ name: this.config.name }));
    } catch (error) {
      throw new KproxyError(
        'source_failed',
        `EKS cluster ${this.config.name} in ${this.config.region}: DescribeCluster failed: ${message(error)}`,
      );
    }
    const endpoint = out.cluster?.endpoint;
    const caData = out.cluster?.certificateAuthority?.data;
    if (!endpoint || !caData)
      throw new KproxyError(
        'source_failed',
        `EKS cluster ${this.config.name} has no endpoint or CA yet (status ${out.cluster?.status ?? 'unknown'})`,
      );
    this.cluster = { endpoint, caData, raw: out.cluster };
    return this.cluster;
  }

  /** A token valid now (for KubeHttp's `bearerToken`, per request). */
  token(): Promise<string> {
    return this.currentToken();
  }

  private async currentToken(): Promise<string> {
    if (this.cachedToken && this.cachedToken.expires > this.now()) return this.cachedToken.value;
    const value = await eksToken({
      clusterName: this.config.name,
      region: this.config.region,
      credentials: this.credentials,
      signingDate: new Date(this.now()),
    });
    this.cachedToken = { value, expires: this.now() + tokenLifetimeMs };
    return value;
  }
}

function message(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`;
}

/** Dotted numeric comparison of `v1.30.0-eksbuild.3`-style versions. */
function compareVersions(a: string, b: string): number {
  const parts = (v: string) => (v.match(/\d+/g) ?? []).map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
