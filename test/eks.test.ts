/** EKS clusters: the STS-presigned bearer token, DescribeCluster and DescribeAddon, end to end through the bot. */

import path from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { eksToken } from '../src/cluster/eks/token.js';
import { parseConfig } from '../src/config/config.js';
import { bundlesDir } from './helpers/bundles.js';
import { FakeEks } from './helpers/fake-eks.js';
import { flushRedis } from './helpers/redis-server.js';
import { postCommand } from './helpers/slack-requests.js';
import { controlsOf, incidentChannel, type Stack, startStack, waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
let stack: Stack | undefined;
let eks: FakeEks | undefined;

beforeEach(async () => {
  await flushRedis(redisUrl);
  process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
});
afterEach(async () => {
  await stack?.stop();
  await eks?.stop();
  stack = undefined;
  eks = undefined;
});

describe('EKS token', () => {
  it('is a presigned STS GetCallerIdentity URL with x-k8s-aws-id signed in', async () => {
    const token = await eksToken({
      clusterName: 'prod-west',
      region: 'us-west-2',
      credentials: {
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      },
      signingDate: new Date('2026-11-22T10:00:00Z'),
    });
    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString());
    expect(url.host).toBe('sts.us-west-2.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261122T100000Z');
    expect(url.searchParams.get('X-Amz-Credential')).toBe(
      'AKIAIOSFODNN7EXAMPLE/20261122/us-west-2/sts/aws4_request',
    );
    expect(url.searchParams.get('x-k8s-aws-id')).toBeNull();
  });

  it('config: eks clusters are validated (region, role ARN)', () => {
    expect(() =>
      parseConfig(
        `clusters:\n  - name: prod-west\n    eks: { name: prod-west, region: west, roleArn: nope }\n    channels: [${incidentChannel}]\n`,
        'c.yaml',
      ),
    ).toThrow(
      /clusters\[0\]\.eks\.region: must be an AWS region[\s\S]*clusters\[0\]\.eks\.roleArn: must be an IAM role ARN/,
    );
  });
});

/** A stack whose one cluster is the served bundle behind the fake EKS API, as EKS cluster `name`. */
async function startEksStack(name: string, extraConfig = ''): Promise<Stack> {
  const bundleDir = path.join(bundlesDir, 'version-skew');
  return startStack({
    redisUrl,
    bundleDir,
    extraConfig,
    clusters: async (api) => {
      eks = new FakeEks(bundleDir, api.server.url);
      const url = await eks.start();
      return [
        `  - name: ${name}`,
        `    eks: { name: ${name}-eks, region: us-west-2, endpoint: "${url}" }`,
        `    channels: [${incidentChannel}]`,
        '    nodeCaptures: debug-pod',
      ].join('\n');
    },
  });
}

describe('/kproxy diagnose on an EKS cluster', () => {
  it('reads the endpoint from DescribeCluster, authenticates with the token, and checks skew against the add-on', async () => {
    stack = await startEksStack('prod-west');
    await postCommand(stack.botUrl, 'diagnose prod-west app/web-api --node ip-10-0-2-45.ec2.internal');
    const [report] = await waitFor('the report', () =>
      stack?.slack.reports().length ? stack.slack.reports() : undefined,
    );
    expect(report?.metadata?.event_payload).toMatchObject({
      cluster: 'prod-west',
      root_cause: 'version_skew',
    });
    expect(JSON.stringify(report?.blocks)).toContain('v1.26.15-eksbuild.2');

    expect(eks?.requests.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/clusters/prod-west-eks', '/clusters/prod-west-eks/addons/kube-proxy']),
    );
    expect(eks?.requests[0]?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\//);
    const auth = stack.api.server.requests.map((r) => r.authorization);
    expect(auth.length).toBeGreaterThan(5);
    for (const a of auth) expect(a).toMatch(/^Bearer k8s-aws-v1\.[A-Za-z0-9_-]+$/);
  });

  it('update-kube-proxy-addon through Slack: the dry run names both versions; approval sends one UpdateAddon', async () => {
    const approver = 'U0APPROVE1';
    // Its own cluster name: EKS access (endpoint, token) is cached per cluster for the process.
    stack = await startEksStack(
      'prod-south',
      `approvals:
  yellow: { approvers: { users: [${approver}] } }
`,
    );
    const s = stack;
    await postCommand(s.botUrl, 'diagnose prod-south app/web-api --node ip-10-0-2-45.ec2.internal');
    const report = await waitFor('the report', () => s.slack.reports()[0]);
    expect(JSON.stringify(report.blocks)).not.toContain('is refused for now');
    const controls = controlsOf(s, report);
    await controls.click('U0ONCALL01', 'kproxy_request_action_0', controls.button('update-kube-proxy-addon'));
    const message = await waitFor('the approval message', () =>
      s.slack.messages.find((m) => m.text?.startsWith('Approval needed: update-kube-proxy-addon')),
    );
    await waitFor('the dry run', () =>
      JSON.stringify(s.slack.messages.find((m) => m.ts === message.ts)?.blocks).includes(
        'EKS UpdateAddon prod-south-eks/kube-proxy addonVersion v1.26.15-eksbuild.2 → v1.30.6-eksbuild.3',
      ),
    );
    const approvalId = controlsOf(s, message).button();
    await controls.click(approver, 'kproxy_approve', approvalId, message.ts);
    await waitFor('the executed reply', () =>
      s.slack.messages.some((m) =>
        m.text?.startsWith(':white_check_mark: Executed `update-kube-proxy-addon`'),
      ),
    );
    expect(eks?.addonUpdates).toEqual([
      {
        path: '/clusters/prod-south-eks/addons/kube-proxy/update',
        body: {
          addonVersion: 'v1.30.6-eksbuild.3',
          resolveConflicts: 'PRESERVE',
          clientRequestToken: approvalId,
        },
      },
    ]);
    expect(s.api.server.mutations).toEqual([]);
  });
});
