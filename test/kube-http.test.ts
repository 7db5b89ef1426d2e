/**
 * KubeHttp through the real @kubernetes/client-node against the test API server, where a
 * real API server differs from a naive one (issue 13): expired continue tokens,
 * Impersonate-Group header lines, EKS tokens that expire, and connection reuse.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { makePki } from '../lab/src/pki.js';
import { EksAccess } from '../src/cluster/eks/eks-access.js';
import { clusterAgent } from '../src/cluster/live/cluster-agent.js';
import { KubeHttp } from '../src/cluster/live/kube-http.js';
import { diagnoseSource } from '../src/engine/engine.js';
import type { BundleApiServerOptions } from '../src/testserver/bundle-api-server.js';
import { bundlesDir } from './helpers/bundles.js';
import { FakeEks } from './helpers/fake-eks.js';
import { type Served, serve } from './helpers/live.js';

const n2 = 'ip-10-0-2-45.ec2.internal';
const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

async function served(name: string, options: BundleApiServerOptions = {}): Promise<Served> {
  const s = await serve(path.join(bundlesDir, name), options);
  running.push(s);
  return s;
}

function httpFor(s: Served, options: ConstructorParameters<typeof KubeHttp>[1] = {}): KubeHttp {
  const kc = new KubeConfig();
  kc.loadFromFile(s.kubeconfig);
  return new KubeHttp(kc, options);
}

const podsCall = { verb: 'list', resource: 'pods', namespace: 'kube-system' };
const podsPath = '/api/v1/namespaces/kube-system/pods';

describe('410 Gone while paging', () => {
  it('an expired continue token restarts the list: every item, once', async () => {
    const s = await served('healthy');
    const http = httpFor(s, { pageSize: 2 });
    const whole = await http.listAll(podsPath, {}, podsCall);
    expect(whole.ok && whole.value.items.length).toBeGreaterThan(4);
    s.server.expireContinueTokens = 1;
    const again = await http.listAll(podsPath, {}, podsCall);
    expect(again).toEqual(whole);
    expect(s.server.requests.filter((r) => r.status === 410)).toHaveLength(1);
  });

  it('a second expiry is reported, not an empty list', async () => {
    const s = await served('healthy');
    s.server.expireContinueTokens = 2;
    const got = await httpFor(s, { pageSize: 2 }).listAll(podsPath, {}, podsCall);
    expect(got.ok).toBe(false);
    expect(!got.ok && got.status).toBe(410);
  });
});

describe('Impersonate-Group', () => {
  it('one header line per group, a comma inside a group name kept', async () => {
    const s = await served('healthy');
    const sent = await httpFor(s).send(
      'PATCH',
      `/api/v1/nodes/${n2}`,
      { spec: { unschedulable: true } },
      { verb: 'patch', resource: 'nodes' },
      'application/merge-patch+json',
      { 'Impersonate-User': 'alice@example.com', 'Impersonate-Group': ['sre', 'on,call'] },
    );
    expect(sent.ok).toBe(true);
    expect(s.server.mutations[0]?.impersonate).toEqual({
      user: 'alice@example.com',
      groups: ['sre', 'on,call'],
    });
  });
});

describe('Impersonate-Group over TLS', () => {
  // An API server offers HTTP/2 over TLS (ALPN), as kube-apiserver does. undici's HTTP/2
  // client joins a repeated header into one value: the lab's apiserver then saw one group
  // "sre, on,call" and refused it. Openssl-made certificates, as the lab's (lab/src/pki.ts).
  it('each group is its own header line against an HTTP/2-capable TLS server', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kproxy-tls-'));
    const pki = await makePki(dir);
    const seen: { version: string; groups: string[] }[] = [];
    const server = createSecureServer(
      { key: await readFile(pki.serving.key), cert: await readFile(pki.serving.cert), allowHTTP1: true },
      (req, res) => {
        // Header lines as received (name, value, name, value…), one entry per line or field.
        const groups = req.rawHeaders.filter(
          (_, i, all) => i % 2 === 1 && all[i - 1]?.toLowerCase() === 'impersonate-group',
        );
        seen.push({ version: req.httpVersion, groups });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    running.push({
      stop: async () => {
        await new Promise((resolve) => server.close(resolve));
        await rm(dir, { recursive: true, force: true });
      },
    });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'tls',
          server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
          caFile: pki.caCert,
        },
      ],
      users: [{ name: 'u', token: 'a-token' }],
      contexts: [{ name: 'tls', cluster: 'tls', user: 'u' }],
      currentContext: 'tls',
    });
    const sent = await new KubeHttp(kc).send(
      'PATCH',
      `/api/v1/nodes/${n2}`,
      { spec: { unschedulable: true } },
      { verb: 'patch', resource: 'nodes' },
      'application/merge-patch+json',
      { 'Impersonate-User': 'alice@example.com', 'Impersonate-Group': ['sre', 'on,call'] },
    );
    expect(sent.ok).toBe(true);
    expect(seen).toEqual([{ version: '1.1', groups: ['sre', 'on,call'] }]);
  });
});

describe('one keep-alive connection pool per cluster', () => {
  it('a diagnosis reuses connections, and a second one (a new LiveSource) reuses the same pool', async () => {
    const s = await served('stale-endpoints');
    const target = { target: { namespace: 'app', service: 'web-api', node: n2 } };
    await diagnoseSource(s.source({ nodeCaptures: 'off' }), target);
    const first = { requests: s.server.requests.length, connections: s.server.connections };
    await diagnoseSource(s.source({ nodeCaptures: 'off' }), target);
    // Concurrency is 8: never more connections than that, however many requests.
    expect(first.requests).toBeGreaterThan(20);
    expect(first.connections).toBeLessThanOrEqual(8);
    expect(s.server.requests.length).toBeGreaterThan(2 * first.requests - 1);
    expect(s.server.connections).toBeLessThanOrEqual(8);
  });
});

describe('the pool of a kubeconfig follows its current context', () => {
  it('switching to another cluster gives its pool, and switching back the first again', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        { name: 'a', server: 'http://127.0.0.1:1', skipTLSVerify: true },
        { name: 'b', server: 'http://127.0.0.1:2', skipTLSVerify: true },
      ],
      users: [{ name: 'u', token: 'test-token' }],
      contexts: [
        { name: 'a', cluster: 'a', user: 'u' },
        { name: 'b', cluster: 'b', user: 'u' },
      ],
      currentContext: 'a',
    });
    const first = (await clusterAgent(kc)).agent;
    expect((await clusterAgent(kc)).agent).toBe(first);
    kc.setCurrentContext('b');
    const second = (await clusterAgent(kc)).agent;
    expect(second).not.toBe(first);
    kc.setCurrentContext('a');
    expect((await clusterAgent(kc)).agent).toBe(first);
    // A kubeconfig loaded again (a new LiveSource per job) shares the pool.
    const again = new KubeConfig();
    again.loadFromString(kc.exportConfig());
    again.setCurrentContext('b');
    expect((await clusterAgent(again)).agent).toBe(second);
  });
});

describe('EKS tokens expire after 15 minutes', () => {
  it('a token per request keeps working past 15 minutes; the one baked into the kubeconfig does not', async () => {
    let clock = Date.now();
    const s = await served('healthy', { eksTokens: { now: () => clock } });
    const eks = new FakeEks(path.join(bundlesDir, 'healthy'), s.server.url);
    const endpoint = await eks.start();
    running.push(eks);
    const access = new EksAccess(
      { name: 'prod-west-eks', region: 'us-west-2', endpoint },
      {
        credentials: async () => ({
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        }),
        now: () => clock,
      },
    );
    const kc = await access.kubeConfig('prod-west');
    const fresh = new KubeHttp(kc, { bearerToken: () => access.token() });
    const baked = new KubeHttp(kc);
    const version = { verb: 'get', resource: 'version' };
    expect((await fresh.getText('/version', {}, version)).ok).toBe(true);
    expect((await baked.getText('/version', {}, version)).ok).toBe(true);
    clock += 16 * 60 * 1000;
    expect((await fresh.getText('/version', {}, version)).ok).toBe(true);
    const stale = await baked.getText('/version', {}, version);
    expect(stale).toMatchObject({ ok: false, status: 401 });
  });
});
