/**
 * The EKS path and the audit correlation where people read them: the CLI over the
 * example bundles, and `/kproxy diagnose` in Slack against an EKS cluster whose EKS,
 * EC2 and CloudWatch Logs APIs are the strict fakes (endpoints from the cluster config).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { bundlesDir } from './helpers/bundles.js';
import { cli } from './helpers/cli.js';
import { startEksFakes } from './helpers/eks-fakes.js';
import { FakeCloudWatchLogs } from './helpers/fake-cloudwatch-logs.js';
import { FakeEc2 } from './helpers/fake-ec2.js';
import { FakeEks } from './helpers/fake-eks.js';
import { serve } from './helpers/live.js';
import { flushRedis } from './helpers/redis-server.js';
import { postCommand } from './helpers/slack-requests.js';
import { incidentChannel, type Stack, startStack, waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const stops: (() => Promise<unknown>)[] = [];
let stack: Stack | undefined;

beforeEach(async () => {
  await flushRedis(redisUrl);
  process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
});
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  for (const stop of stops.splice(0)) await stop();
});

describe('kproxy diagnose (CLI)', () => {
  it('names the security group rule, and the NACL rule, in text and JSON', async () => {
    const sg = await cli('diagnose', '--bundle', path.join(bundlesDir, 'eks-sg-missing-443'), '--no-color');
    expect(sg.code).toBe(0);
    expect(sg.stdout).toContain(
      'ROOT CAUSE  kube-proxy cannot reach the API server on 1 node (api_connectivity)',
    );
    expect(sg.stdout).toMatch(
      /✗ fail\s+eks\.network\s+the node → API server path is blocked on 1 node\(s\): no inbound rule of sg-0f1e2d3c4b5a69788 admits TCP 443/,
    );
    expect(sg.stdout).toContain('Restore the node → API server path');
    const nacl = await cli(
      'diagnose',
      '--bundle',
      path.join(bundlesDir, 'eks-nacl-ephemeral'),
      '--format',
      'json',
    );
    const d = JSON.parse(nacl.stdout) as {
      findings: { check: string; status: string; evidence: string[] }[];
    };
    const f = d.findings.find((x) => x.check === 'eks.network');
    expect(f?.status).toBe('fail');
    expect(f?.evidence.join('\n')).toContain(
      'acl-0b1c2d3e4f5a6b7c8 inbound rule 90 deny tcp 1024-65535 from 0.0.0.0/0',
    );
  });

  it('shows who changed the kube-proxy ConfigMap beside the root cause and in the timeline', async () => {
    const r = await cli('diagnose', '--bundle', path.join(bundlesDir, 'eks-audit-configmap'), '--no-color');
    expect(r.stdout).toContain(
      '(control-plane audit log: ConfigMap kube-system/kube-proxy-config patched by arn:aws:iam::123456789012:role/ci-deployer 4 min before the first kube-proxy failure)',
    );
    expect(r.stdout).toMatch(/Audit: ConfigMap kube-system\/kube-proxy-config patched by .*ci-deployer/);
  });
});

/** A stack whose one EKS cluster is the served bundle, with EC2 and CloudWatch Logs fakes. */
async function startEksPathStack(
  bundle: string,
  name: string,
): Promise<{ ec2: FakeEc2; logs: FakeCloudWatchLogs }> {
  const bundleDir = path.join(bundlesDir, bundle);
  const ec2 = new FakeEc2(bundleDir);
  const logs = new FakeCloudWatchLogs(bundleDir, `${name}-eks`);
  const [ec2Url, logsUrl] = await Promise.all([ec2.start(), logs.start()]);
  stops.push(
    () => ec2.stop(),
    () => logs.stop(),
  );
  stack = await startStack({
    redisUrl,
    bundleDir,
    clusters: async (api) => {
      const eks = new FakeEks(bundleDir, api.server.url);
      const url = await eks.start();
      stops.push(() => eks.stop());
      return [
        `  - name: ${name}`,
        `    eks: { name: ${name}-eks, region: us-west-2, endpoint: "${url}", ec2Endpoint: "${ec2Url}", logsEndpoint: "${logsUrl}" }`,
        `    channels: [${incidentChannel}]`,
        '    nodeCaptures: debug-pod',
      ].join('\n');
    },
  });
  return { ec2, logs };
}

async function report(command: string): Promise<string> {
  await postCommand((stack as Stack).botUrl, command);
  const [posted] = await waitFor('the report', () =>
    stack?.slack.reports().length ? stack.slack.reports() : undefined,
  );
  return JSON.stringify(posted?.blocks);
}

describe('/kproxy diagnose on EKS (Slack)', () => {
  it('the report names the security group that does not admit the node on 443', async () => {
    const { ec2 } = await startEksPathStack('eks-sg-missing-443', 'prod-sg');
    const blocks = await report('diagnose prod-sg app/web-api --node ip-10-0-2-45.ec2.internal');
    expect(blocks).toContain(
      'no inbound rule of sg-0f1e2d3c4b5a69788 admits TCP 443 from ip-10-0-2-45.ec2.internal',
    );
    expect(blocks).toContain('eks.network');
    expect(ec2.requests.map((r) => r.action)).toContain('DescribeSecurityGroups');
  });

  it('the report names who patched the kube-proxy ConfigMap, from the audit log', async () => {
    const { logs } = await startEksPathStack('eks-audit-configmap', 'prod-audit');
    const blocks = await report('diagnose prod-audit app/web-api --node ip-10-0-2-45.ec2.internal');
    expect(blocks).toContain(
      'patched by arn:aws:iam::123456789012:role/ci-deployer 4 min before the first kube-proxy failure',
    );
    expect(logs.requests[0]?.body.logGroupName).toBe('/aws/eks/prod-audit-eks/cluster');
  });
});

describe('kproxy collect --eks-cluster (CLI)', () => {
  it('writes the EC2 path and the audit log; the bundle diagnoses offline as the live run did', async () => {
    const dir = path.join(bundlesDir, 'eks-audit-configmap');
    const served = await serve(dir);
    stops.push(() => served.stop());
    const fakes = await startEksFakes(dir, served.server.url, 'prod-east');
    stops.push(() => fakes.stop());
    const endpoints = `eks=${fakes.urls.eks},ec2=${fakes.urls.ec2},logs=${fakes.urls.logs}`;
    const live = [
      '--kubeconfig',
      served.kubeconfig,
      '--context',
      'bundle',
      '--service',
      'app/web-api',
      '--node',
      'ip-10-0-2-45.ec2.internal',
      '--node-captures',
      'debug-pod',
      '--eks-cluster',
      'prod-east',
      '--region',
      'us-west-2',
      '--aws-endpoints',
      endpoints,
    ];
    const liveRun = await cli('diagnose', ...live, '--format', 'json');
    expect(liveRun.stderr).toBe('');
    const root = await mkdtemp(path.join(os.tmpdir(), 'kproxy-eks-cli-'));
    stops.push(() => rm(root, { recursive: true, force: true }));
    const out = path.join(root, 'incident.tar.gz');
    const collected = await cli('collect', ...live, '--out', out);
    expect(collected.code).toBe(0);
    expect(collected.stderr).toContain("EKS: the nodes' path to the control plane, the audit log");
    const offline = await cli('diagnose', '--bundle', out, '--format', 'json');
    const pick = (text: string) => {
      const d = JSON.parse(text) as { rootCause: unknown; findings: unknown; ranking: unknown };
      return JSON.stringify([d.rootCause, d.findings, d.ranking]);
    };
    expect(pick(offline.stdout)).toBe(pick(liveRun.stdout));
    expect(offline.stdout).toContain('patched by arn:aws:iam::123456789012:role/ci-deployer');
    expect(fakes.ec2.requests.length).toBeGreaterThan(0);
  });

  it('refuses EKS options without --eks-cluster, a bad region, and --eks-cluster with --bundle, in one line', async () => {
    const bad = [
      [
        ['diagnose', '--context', 'x', '--service', 'app/web-api', '--region', 'us-west-2'],
        /need --eks-cluster NAME/,
      ],
      [
        ['diagnose', '--context', 'x', '--service', 'app/web-api', '--eks-cluster', 'c', '--region', 'west'],
        /--region "west"/,
      ],
      [['diagnose', '--bundle', 'x', '--eks-cluster', 'c'], /--eks-cluster reads a live cluster/],
    ] as const;
    for (const [argv, message] of bad) {
      const r = await cli(...argv);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
