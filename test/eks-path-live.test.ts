/**
 * The EKS control-plane path and the audit log through the live path: the real AWS SDK
 * clients (EC2, CloudWatch Logs, EKS) against strict fakes of their wire protocols, the
 * real LiveSource against the test API server; what `kproxy collect` writes diagnoses
 * offline exactly as the live run did.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BundleSource, buildView } from '../src/cluster/bundle/bundle-source.js';
import { writeBundle } from '../src/cluster/bundle/write.js';
import type { EksAccess } from '../src/cluster/eks/eks-access.js';
import { diagnose, diagnoseSource } from '../src/engine/engine.js';
import { bundlesDir } from './helpers/bundles.js';
import { BundleCopies, n2 } from './helpers/edit-bundle.js';
import { startEksFakes } from './helpers/eks-fakes.js';
import type { FakeCloudWatchLogs } from './helpers/fake-cloudwatch-logs.js';
import type { FakeEc2 } from './helpers/fake-ec2.js';
import { type Served, serve } from './helpers/live.js';

const target = { namespace: 'app', service: 'web-api', node: n2 };
const stops: (() => Promise<unknown>)[] = [];
const copies = new BundleCopies();
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await copies.cleanup();
});

interface Setup {
  served: Served;
  ec2: FakeEc2;
  logs: FakeCloudWatchLogs;
  access: EksAccess;
}

async function setUp(
  bundle: string,
  configure: (f: { ec2: FakeEc2; logs: FakeCloudWatchLogs }) => void = () => {},
): Promise<Setup> {
  const dir = path.isAbsolute(bundle) ? bundle : path.join(bundlesDir, bundle);
  const served = await serve(dir);
  stops.push(() => served.stop());
  const fakes = await startEksFakes(dir, served.server.url, 'prod-east', configure);
  stops.push(() => fakes.stop());
  return { served, ec2: fakes.ec2, logs: fakes.logs, access: fakes.access };
}

/** Live diagnosis, then the written bundle's offline one. */
async function liveAndOffline(s: Setup) {
  const source = s.served.source({ provider: s.access });
  const collected = await source.collect({ target });
  const live = diagnose(await buildView(collected.bundle, collected.manifest, collected.target, 'live'));
  const root = await mkdtemp(path.join(os.tmpdir(), 'kproxy-eks-'));
  stops.push(() => rm(root, { recursive: true, force: true }));
  const out = path.join(root, 'incident');
  await writeBundle(collected.bundle, out);
  const offline = await diagnoseSource(new BundleSource(out));
  return { live, offline, out };
}

const comparable = (d: { rootCause: unknown; ranking: unknown; findings: unknown; mitigation: unknown }) =>
  JSON.stringify([d.rootCause, d.ranking, d.findings, d.mitigation]);

describe('EKS control-plane path, live', () => {
  it('reads the affected node’s EC2 path with signed Query API calls and names the missing 443 rule; offline equals live', async () => {
    const s = await setUp('eks-sg-missing-443');
    const { live, offline, out } = await liveAndOffline(s);
    expect(live.rootCause.category).toBe('api_connectivity');
    expect(live.rootCause.detail).toContain(
      'no inbound rule of sg-0f1e2d3c4b5a69788 admits TCP 443 from ip-10-0-2-45',
    );
    expect(comparable(offline)).toBe(comparable(live));
    expect(s.ec2.requests.map((r) => r.action).sort()).toEqual([
      'DescribeInstances',
      'DescribeNatGateways',
      'DescribeNetworkAcls',
      'DescribeRouteTables',
      'DescribeRouteTables',
      'DescribeSecurityGroups',
      'DescribeSubnets',
    ]);
    for (const r of s.ec2.requests) expect(r.authorization).toMatch(/\/us-west-2\/ec2\/aws4_request, /);
    // Only the affected node's instance is read.
    expect(s.ec2.requests.find((r) => r.action === 'DescribeInstances')?.params).toMatchObject({
      'InstanceId.1': 'i-0b2c3d4e5f6071829',
    });
    const written = JSON.parse(await readFile(path.join(out, 'eks/ec2/security-groups.json'), 'utf8')) as {
      SecurityGroups: { GroupId: string }[];
    };
    expect(written.SecurityGroups.map((g) => g.GroupId).sort()).toEqual([
      'sg-0d4e5f60718293a4b',
      'sg-0f1e2d3c4b5a69788',
    ]);
  });

  it('a denied EC2 action makes the check unknown naming the IAM action, live and offline', async () => {
    const s = await setUp('eks-nacl-ephemeral', ({ ec2 }) => ec2.denied.add('DescribeNetworkAcls'));
    const { live, offline, out } = await liveAndOffline(s);
    const finding = live.findings.find((f) => f.check === 'eks.network');
    expect(finding?.status).toBe('unknown');
    expect(finding?.summary).toContain('ec2:DescribeNetworkAcls denied (UnauthorizedOperation)');
    // The watch failure itself is still the root cause, without a guessed network rule.
    expect(live.rootCause.category).toBe('api_connectivity');
    expect(live.rootCause.detail).not.toContain('acl-');
    expect(comparable(offline)).toBe(comparable(live));
    const manifest = JSON.parse(await readFile(path.join(out, 'bundle.json'), 'utf8')) as {
      notCollected: Record<string, string>;
    };
    expect(manifest.notCollected['eks/ec2/network-acls.json']).toMatch(/grant ec2:DescribeNetworkAcls/);
  });

  it('the fakes refuse unsigned requests, as EC2 and CloudWatch Logs do', async () => {
    const s = await setUp('eks-sg-missing-443');
    const ec2Url = (s.access as unknown as { config: { ec2Endpoint: string } }).config.ec2Endpoint;
    const logsUrl = (s.access as unknown as { config: { logsEndpoint: string } }).config.logsEndpoint;
    const ec2 = await fetch(ec2Url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=DescribeSecurityGroups&Version=2016-11-15',
    });
    expect(ec2.status).toBe(401);
    expect(await ec2.text()).toContain('<Code>MissingAuthenticationToken</Code>');
    const logs = await fetch(logsUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'Logs_20140328.FilterLogEvents',
      },
      body: '{"logGroupName":"/aws/eks/prod-east/cluster"}',
    });
    expect(logs.status).toBe(400);
    expect(await logs.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
  });
});

describe('EKS control-plane audit log, live', () => {
  it('reads bounded pages of the audit stream, keeps the changes, and merges who made them into the timeline; offline equals live', async () => {
    const s = await setUp('eks-audit-configmap', ({ logs }) => {
      logs.pageSize = 2;
    });
    const { live, offline, out } = await liveAndOffline(s);
    const calls = s.logs.requests;
    expect(calls.length).toBeGreaterThan(1);
    expect(calls[1]?.body.nextToken).toBeTruthy();
    const first = calls[0]?.body ?? {};
    expect(first).toMatchObject({
      logGroupName: '/aws/eks/prod-east/cluster',
      logStreamNamePrefix: 'kube-apiserver-audit',
      startTime: Date.parse('2026-11-22T07:00:00Z'),
      endTime: Date.parse('2026-11-22T10:00:00Z'),
    });
    const lines = (await readFile(path.join(out, 'eks/audit.jsonl'), 'utf8')).trim().split('\n');
    // The patch (two stages) and the controller's EndpointSlice updates; not the get, not coredns.
    expect(
      lines.map((l) => (JSON.parse(l) as { verb: string; objectRef: { name: string } }).objectRef.name),
    ).toEqual(['kube-proxy-config', 'kube-proxy-config', 'web-api-x2fzk', 'web-api-x2fzk']);
    expect(live.rootCause.detail).toContain(
      'ConfigMap kube-system/kube-proxy-config patched by arn:aws:iam::123456789012:role/ci-deployer 4 min before the first kube-proxy failure',
    );
    const timeline = live.findings.find((f) => f.check === 'timeline.events');
    expect(timeline?.evidence[0]).toContain('Audit: ConfigMap kube-system/kube-proxy-config patched by');
    expect(comparable(offline)).toBe(comparable(live));
  });

  it('denied FilterLogEvents, and audit logging off, leave eks/audit.jsonl missing with the reason', async () => {
    const s = await setUp('eks-audit-configmap', ({ logs }) => {
      logs.denied = true;
    });
    const { out, live } = await liveAndOffline(s);
    const manifest = JSON.parse(await readFile(path.join(out, 'bundle.json'), 'utf8')) as {
      notCollected: Record<string, string>;
    };
    expect(manifest.notCollected['eks/audit.jsonl']).toMatch(
      /logs:FilterLogEvents denied \(AccessDeniedException\)/,
    );
    expect(live.rootCause.detail).not.toContain('ci-deployer');

    // A cluster whose audit log type is not enabled is never searched.
    const copy = await copies.edit('eks-audit-configmap', (b) =>
      b.json<{ cluster: { logging: unknown } }>('eks/cluster.json', (doc) => {
        doc.cluster.logging = { clusterLogging: [{ types: ['api', 'audit'], enabled: false }] };
      }),
    );
    const off = await setUp(copy);
    const offRun = await liveAndOffline(off);
    expect(off.logs.requests).toEqual([]);
    const offManifest = JSON.parse(await readFile(path.join(offRun.out, 'bundle.json'), 'utf8')) as {
      notCollected: Record<string, string>;
    };
    expect(offManifest.notCollected['eks/audit.jsonl']).toMatch(/control-plane audit logging is off/);
    expect(offRun.live.rootCause.category).toBe('pod_crash');
  });
});
