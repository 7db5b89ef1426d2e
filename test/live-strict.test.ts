/**
 * The live path against a test API server that behaves like a real one where kproxy once
 * assumed otherwise (issue 13): exec authorized as the verbs of a WebSocket upgrade,
 * refusals that are not RBAC, truncated exec streams, and the exec subprotocol.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeHttp } from '../src/cluster/live/kube-http.js';
import { diagnoseSource } from '../src/engine/engine.js';
import type { BundleApiServerOptions } from '../src/testserver/bundle-api-server.js';
import { podSecurityDenied } from '../src/testserver/status.js';
import { bundlesDir, copyExample } from './helpers/bundles.js';
import { type Served, serve } from './helpers/live.js';
import { deployGrants } from './helpers/rbac.js';

const n2 = 'ip-10-0-2-45.ec2.internal';
const webApi = { target: { namespace: 'app', service: 'web-api', node: n2 } };
const running: Served[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

async function served(name: string, options: BundleApiServerOptions = {}): Promise<Served> {
  const s = await serve(path.join(bundlesDir, name), options);
  running.push(s);
  return s;
}

const dataplaneOn = async (s: Served) => {
  const live = await diagnoseSource(s.source({ nodeCaptures: 'exec' }), webApi);
  return live.findings.find((f) => f.check === 'dataplane.rules');
};

const readerRoles = ['kproxy-reader', 'kproxy-reader-kube-system', 'kproxy-reader-nodes-proxy'];

/** deploy/base's reader roles, with pods/exec in kube-system granted `verbs` only. */
const readerWithExec = (verbs: string[]) => [
  ...deployGrants(...readerRoles),
  { namespace: 'kube-system', rules: [{ apiGroups: [''], resources: ['pods/exec'], verbs }] },
];

describe('exec is authorized as a WebSocket upgrade (get, and create from 1.35)', () => {
  it("deploy/base's roles are enough for exec captures on 1.35 and before", async () => {
    for (const websocketCreateCheck of [true, false]) {
      const s = await served('stale-endpoints', {
        rbac: deployGrants(...readerRoles, 'kproxy-node-capture-exec'),
        websocketCreateCheck,
      });
      expect((await dataplaneOn(s))?.status).toBe('fail');
      const execs = s.server.requests.filter((r) => r.path.endsWith('/exec'));
      expect(execs.length).toBeGreaterThan(0);
      expect(execs.every((r) => r.status === 101)).toBe(true);
    }
  });

  it('create alone (the old role) is refused, and the hint asks for get, never for create', async () => {
    const s = await served('stale-endpoints', { rbac: readerWithExec(['create']) });
    const summary = (await dataplaneOn(s))?.nodes?.[n2]?.summary ?? '';
    expect(summary).toContain('forbidden: get pods/exec in kube-system (RBAC: grant "get" on pods/exec)');
    expect(summary).not.toContain('grant "create"');
  });

  it('get alone is refused from 1.35 on with a hint for create, and works before 1.35', async () => {
    const s135 = await served('stale-endpoints', { rbac: readerWithExec(['get']) });
    const summary = (await dataplaneOn(s135))?.nodes?.[n2]?.summary ?? '';
    expect(summary).toContain('(RBAC: grant "create" on pods/exec)');
    expect(summary).not.toContain('grant "get"');
    const s134 = await served('stale-endpoints', {
      rbac: readerWithExec(['get']),
      websocketCreateCheck: false,
    });
    expect((await dataplaneOn(s134))?.status).toBe('fail');
  });
});

describe('exec streams are complete or not used', () => {
  it('a stream cut before the exit status is not diagnosed', async () => {
    const s = await served('stale-endpoints', {
      faults: [{ match: /^EXEC .*\/exec$/, respond: 'truncate' }],
    });
    const dataplane = await dataplaneOn(s);
    expect(dataplane?.status).toBe('unknown');
    expect(dataplane?.nodes?.[n2]?.summary).toContain('closed without the exit status');
  });

  it('an iptables-save dump without COMMIT is cut short and not diagnosed', async () => {
    const copy = await copyExample('stale-endpoints');
    try {
      const file = path.join(copy.dir, 'nodes', n2, 'iptables-save.txt');
      const text = await readFile(file, 'utf8');
      await writeFile(
        file,
        text.slice(0, text.indexOf('*nat') + Math.floor((text.length - text.indexOf('*nat')) / 2)),
      );
      const s = await serve(copy.dir);
      running.push(s);
      const dataplane = await dataplaneOn(s);
      expect(dataplane?.status).toBe('unknown');
      expect(dataplane?.nodes?.[n2]?.summary).toContain('no COMMIT line in the output (cut short)');
    } finally {
      await copy.cleanup();
    }
  });

  it('negotiates v5.channel.k8s.io, as current API servers do', async () => {
    const s = await served('stale-endpoints');
    const protocols: string[] = [];
    s.server.onExecProtocol = (p) => protocols.push(p);
    await dataplaneOn(s);
    expect(protocols.length).toBeGreaterThan(0);
    expect(new Set(protocols)).toEqual(new Set(['v5.channel.k8s.io']));
  });

  it('an exec that never answers times out on its own bound and its socket is closed', async () => {
    const s = await served('stale-endpoints', {
      faults: [{ match: /^EXEC .*\/exec$/, respond: 'delay', ms: 30_000 }],
    });
    const live = await diagnoseSource(
      s.source({ nodeCaptures: 'exec', http: { timeoutMs: 5000, execTimeoutMs: 300 } }),
      webApi,
    );
    const dataplane = live.findings.find((f) => f.check === 'dataplane.rules');
    expect(dataplane?.status).toBe('unknown');
    expect(dataplane?.nodes?.[n2]?.summary).toContain('took longer than the limit');
    await expect.poll(() => s.server.openUpgrades, { timeout: 10_000 }).toBe(0);
  });
});

describe('an exec is cancelled with its client', () => {
  it('aborting the client (a job deadline) closes an exec in flight', async () => {
    const s = await served('stale-endpoints', {
      faults: [{ match: /^EXEC .*\/exec$/, respond: 'delay', ms: 30_000 }],
    });
    const kc = new KubeConfig();
    kc.loadFromFile(s.kubeconfig);
    const abort = new AbortController();
    const http = new KubeHttp(kc, { signal: abort.signal });
    const pending = http.exec(
      'kube-system',
      'kube-proxy-k2v9d',
      'kube-proxy',
      ['iptables-save', '-t', 'nat'],
      {
        verb: 'create',
        resource: 'pods/exec',
        namespace: 'kube-system',
      },
    );
    await expect.poll(() => s.server.openUpgrades, { timeout: 10_000 }).toBe(1);
    abort.abort();
    const got = await pending;
    expect(got.ok ? '' : got.reason).toContain('cancelled');
    await expect.poll(() => s.server.openUpgrades, { timeout: 10_000 }).toBe(0);
  });
});

describe('a 403 is not always RBAC', () => {
  it('a Pod Security refusal of the debug pod is shown as such, with no "grant" hint', async () => {
    const denied = podSecurityDenied('kproxy-capture');
    const s = await served('healthy', {
      faults: [
        { match: /^POST \/api\/v1\/namespaces\/kube-system\/pods$/, respond: 403, message: denied.message },
      ],
    });
    const live = await diagnoseSource(s.source({ nodeCaptures: 'debug-pod' }), webApi);
    const dataplane = live.findings.find((f) => f.check === 'dataplane.rules');
    expect(dataplane?.status).toBe('unknown');
    const text = JSON.stringify(dataplane);
    expect(text).toContain('Forbidden: pods \\"kproxy-capture\\" is forbidden: violates PodSecurity');
    expect(text).not.toContain('grant');
  });
});
