/**
 * The real kubectl (Debian's /usr/bin/kubectl) against the test API server that
 * `kproxy serve-bundle` runs: discovery, `get` with -l, --field-selector and --chunk-size,
 * `logs` and `exec` (WebSocket, v5.channel.k8s.io) work as against a real API server.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleApiServer } from '../src/testserver/bundle-api-server.js';
import { bundlesDir } from './helpers/bundles.js';

const run = promisify(execFile);
let server: BundleApiServer;
let dir: string;

beforeAll(async () => {
  server = new BundleApiServer(path.join(bundlesDir, 'stale-endpoints'));
  await server.start();
  dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-kubectl-'));
  await writeFile(path.join(dir, 'kubeconfig'), server.kubeconfig());
});
afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

/** kubectl with the served kubeconfig and a private discovery cache. */
async function kubectl(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const out = await run('/usr/bin/kubectl', ['--cache-dir', path.join(dir, 'cache'), ...args], {
      env: { ...process.env, KUBECONFIG: path.join(dir, 'kubeconfig') },
      timeout: 60_000,
    });
    return { ...out, code: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? -1 };
  }
}

const names = (stdout: string) => stdout.trim().split('\n').filter(Boolean).sort();

describe('kubectl against serve-bundle', () => {
  it('get with a label selector, in one namespace', async () => {
    const got = await kubectl('get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-proxy', '-o', 'name');
    expect(got.stderr).toBe('');
    expect(names(got.stdout)).toEqual([
      'pod/kube-proxy-8fxlw',
      'pod/kube-proxy-k2v9d',
      'pod/kube-proxy-zr5hq',
    ]);
  });

  it('get across namespaces with a field selector', async () => {
    const got = await kubectl(
      'get',
      'pods',
      '-A',
      '--field-selector',
      'spec.nodeName=ip-10-0-2-45.ec2.internal',
      '-o',
      'name',
    );
    expect(names(got.stdout)).toEqual([
      'pod/aws-node-n8w2c',
      'pod/coredns-5b8cc885bc-9tnbw',
      'pod/kube-proxy-k2v9d',
      'pod/web-api-7c9d8b6f5d-8mzt2',
    ]);
  });

  it('get in chunks follows continue tokens', async () => {
    const before = server.requests.length;
    const got = await kubectl('get', 'pods', '-n', 'app', '--chunk-size', '1', '-o', 'name');
    expect(names(got.stdout)).toHaveLength(3);
    const pages = server.requests.slice(before).filter((r) => r.path === '/api/v1/namespaces/app/pods');
    expect(pages.map((r) => r.query.limit)).toEqual(['1', '1', '1']);
    expect(pages.filter((r) => r.query.continue)).toHaveLength(2);
  });

  it('get prints the server-side table, as a real API server sends it', async () => {
    const got = await kubectl('get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-proxy');
    const lines = got.stdout.trim().split('\n');
    expect(lines[0]?.split(/\s+/)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ['kube-proxy-8fxlw', '1/1', 'Running'],
      ['kube-proxy-k2v9d', '1/1', 'Running'],
      ['kube-proxy-zr5hq', '1/1', 'Running'],
    ]);
  });

  it('get by short name and resource of another group', async () => {
    const got = await kubectl(
      'get',
      'ds',
      '-n',
      'kube-system',
      'kube-proxy',
      '-o',
      'jsonpath={.metadata.name}',
    );
    expect(got.stdout).toBe('kube-proxy');
  });

  it('logs with --tail', async () => {
    const got = await kubectl('logs', '-n', 'kube-system', 'kube-proxy-k2v9d', '--tail=1');
    expect(got.code).toBe(0);
    expect(got.stdout.trim().split('\n')).toHaveLength(1);
    expect(got.stdout).toContain('SyncProxyRules complete');
  });

  it('exec streams the output, and a failing command exits non-zero', async () => {
    const ok = await kubectl(
      'exec',
      '-n',
      'kube-system',
      'kube-proxy-k2v9d',
      '--',
      'iptables-save',
      '-t',
      'nat',
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^\*nat$/m);
    expect(ok.stdout).toMatch(/^COMMIT$/m);
    const refused = await kubectl('exec', '-n', 'kube-system', 'kube-proxy-k2v9d', '--', 'rm', '-rf', '/');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('command not allowed by the bundle server');
  });
});
