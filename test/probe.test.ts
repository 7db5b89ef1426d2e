/**
 * The client's-eye probe offline: the matrix read strictly, the probe script run for real
 * (sh and curl against loopback listeners), the engine letting the probe outrank inference,
 * and the matrix in the text and Slack reports.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import { podSchema } from '../src/cluster/kube-types.js';
import { clientLabels } from '../src/cluster/live/probe-pod.js';
import { ProbeFormatError, parseProbeOutput } from '../src/cluster/probe/matrix.js';
import { probeArgs, probeCommand, probeScript } from '../src/cluster/probe/script.js';
import { diagnoseSource } from '../src/engine/engine.js';
import { renderBlocks } from '../src/report/blocks.js';
import { renderText } from '../src/report/text.js';
import { bundlesDir } from './helpers/bundles.js';

const run = promisify(execFile);
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const diagnoseBundle = (dir: string) => diagnoseSource(new BundleSource(dir));
const n2 = 'ip-10-0-2-45.ec2.internal';

const good = [
  `kproxy-probe v1 node=${n2} namespace=app as=app/batch`,
  'dns web-api.app.svc ok 172.20.91.14',
  'vip 172.20.91.14:80 timeout',
  'endpoint 10.0.1.101:8080 ok -',
  'endpoint [fd00::1]:8080 ok 200',
  'nodeport 10.0.2.45:30080 refused',
  'apiserver kubernetes.default.svc:443 ok 403',
  'end',
  '',
].join('\n');

describe('the probe matrix', () => {
  it('reads every kind of row', () => {
    const m = parseProbeOutput(good);
    expect(m).toMatchObject({ node: n2, namespace: 'app', as: 'app/batch' });
    expect(m.rows).toEqual([
      { kind: 'dns', target: 'web-api.app.svc', outcome: 'ok', detail: '172.20.91.14' },
      { kind: 'vip', target: '172.20.91.14:80', outcome: 'timeout' },
      { kind: 'endpoint', target: '10.0.1.101:8080', outcome: 'ok', detail: '-' },
      { kind: 'endpoint', target: '[fd00::1]:8080', outcome: 'ok', detail: '200' },
      { kind: 'nodeport', target: '10.0.2.45:30080', outcome: 'refused' },
      { kind: 'apiserver', target: 'kubernetes.default.svc:443', outcome: 'ok', detail: '403' },
    ]);
  });

  it.each([
    ['a cut stream (no end)', good.replace('end\n', ''), 'no "end" line'],
    ['text after end', `${good}vip 1.2.3.4:80 ok -\n`, 'text after "end"'],
    [
      'an unknown outcome',
      good.replace('vip 172.20.91.14:80 timeout', 'vip 172.20.91.14:80 maybe'),
      'line 3',
    ],
    ['an unknown kind', good.replace('nodeport', 'loadbalancer'), 'line 6'],
    ['a shell error instead of the header', `sh: dig: not found\n${good}`, 'line 1'],
    ['an ok connection without its status', good.replace('ok 403', 'ok'), 'line 7'],
  ])('refuses %s, naming the line', (_what, text, where) => {
    expect(() => parseProbeOutput(text)).toThrow(ProbeFormatError);
    expect(() => parseProbeOutput(text)).toThrow(where);
  });

  it('any text is a matrix or a ProbeFormatError: never another exception, never a partial read', () => {
    const line = fc.oneof(
      fc.constantFrom(...good.split('\n')),
      fc.string({ maxLength: 40 }),
      fc.constantFrom('end', 'vip 1.2.3.4:80 ok', 'dns x ok ', 'endpoint [::1]:80 error'),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const text = lines.join('\n');
        try {
          const m = parseProbeOutput(text);
          expect(
            text
              .split('\n')
              .filter((l) => l !== '')
              .at(-1),
          ).toBe('end');
          expect(m.rows.length).toBe(text.split('\n').filter((l) => l !== '').length - 2);
        } catch (error) {
          expect(error).toBeInstanceOf(ProbeFormatError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('the probe command carries the fixed script and the paths; anything else is not the probe', () => {
    const cmd = probeCommand(['dns=web-api.app.svc', 'vip=172.20.91.14:80']);
    expect(probeArgs(cmd)).toEqual([
      { kind: 'dns', target: 'web-api.app.svc' },
      { kind: 'vip', target: '172.20.91.14:80' },
    ]);
    expect(probeArgs(['sh', '-c', `${probeScript}; rm -rf /`, 'kproxy-probe'])).toBeUndefined();
    expect(probeArgs([...cmd, 'vip=1.2.3.4:80;id'])).toBeUndefined();
  });
});

describe("the client's labels on the probe pod", () => {
  const pod = (labels: Record<string, string>, owner?: { kind: string; name: string }) =>
    podSchema.parse({
      metadata: { name: 'c', namespace: 'app', labels, ...(owner ? { ownerReferences: [owner] } : {}) },
      spec: { containers: [{ name: 'c' }] },
    });

  it("a Deployment's pod: its labels without pod-template-hash (its ReplicaSet selects that hash)", () => {
    expect(
      clientLabels(
        pod({ app: 'batch', 'pod-template-hash': 'abc' }, { kind: 'ReplicaSet', name: 'batch-abc' }),
      ),
    ).toEqual({
      labels: { app: 'batch' },
    });
  });

  it('a StatefulSet pod (its controller claims only pods named after it) or a bare pod: its labels', () => {
    expect(
      clientLabels(
        pod(
          { app: 'db', 'controller-revision-hash': 'x', 'statefulset.kubernetes.io/pod-name': 'db-0' },
          { kind: 'StatefulSet', name: 'db' },
        ),
      ),
    ).toEqual({ labels: { app: 'db' } });
    expect(clientLabels(pod({ app: 'one' }))).toEqual({ labels: { app: 'one' } });
  });

  it('a DaemonSet or bare ReplicaSet pod: refused, naming the controller that would adopt it', () => {
    expect(clientLabels(pod({ app: 'agent' }, { kind: 'DaemonSet', name: 'agent' }))).toEqual({
      refused: 'its controller (DaemonSet agent) would adopt a pod with its labels',
    });
    expect(clientLabels(pod({ app: 'x' }, { kind: 'ReplicaSet', name: 'x' }))).toHaveProperty('refused');
  });
});

describe('the probe script, run for real (sh, curl)', () => {
  async function listener(): Promise<number> {
    const server: Server = createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    return (server.address() as AddressInfo).port;
  }

  it('prints a matrix kproxy parses: a listener answers, a closed port is refused, a bad name does not resolve', async () => {
    const open = await listener();
    const closedServer = createServer();
    await new Promise<void>((r) => closedServer.listen(0, '127.0.0.1', r));
    const closed = (closedServer.address() as AddressInfo).port;
    await new Promise((r) => closedServer.close(r));
    const [sh, c, script, name, ...args] = probeCommand([
      `vip=127.0.0.1:${open}`,
      `endpoint=127.0.0.1:${closed}`,
      'apiserver=kproxy-probe-test.invalid:443',
    ]);
    const out = await run(sh as string, [c as string, script as string, name as string, ...args], {
      env: {
        ...process.env,
        NODE_NAME: n2,
        POD_NAMESPACE: 'kube-system',
        http_proxy: '',
        https_proxy: '',
        HTTP_PROXY: '',
        HTTPS_PROXY: '',
        ALL_PROXY: '',
      },
      timeout: 60_000,
    });
    const m = parseProbeOutput(out.stdout);
    expect(m).toMatchObject({ node: n2, namespace: 'kube-system', as: null });
    expect(m.rows).toEqual([
      { kind: 'vip', target: `127.0.0.1:${open}`, outcome: 'ok', detail: '204' },
      { kind: 'endpoint', target: `127.0.0.1:${closed}`, outcome: 'refused' },
      { kind: 'apiserver', target: 'kproxy-probe-test.invalid:443', outcome: 'unresolved' },
    ]);
  }, 90_000);
});

describe('the engine: the probe outranks inference', () => {
  it('no captures for the node is inconclusive; with the probe there it is decided: kube-proxy on that node', async () => {
    const without = await diagnoseBundle(path.join(bundlesDir, 'inconclusive-no-captures'));
    expect(without.verdict).toBe('inconclusive');
    expect(without.findings.find((f) => f.check === 'probe.path')).toMatchObject({
      status: 'unknown',
      summary: expect.stringContaining('off for this cluster'),
    });
    const d = await diagnoseBundle(path.join(bundlesDir, 'probe-vip-fails'));
    expect(d.rootCause).toMatchObject({ category: 'stale_endpoints', nodes: [n2] });
    expect(d.rootCause.detail).toContain("client's-eye probe");
    expect(d.mitigation.actions[0]).toMatchObject({ id: 'delete-kube-proxy-pod', node: n2 });
    expect(d.mitigation.immediate).toMatch(
      /^The Service VIP does not answer from ip-10-0-2-45\.ec2\.internal while every pod IP does/,
    );
  });

  it('a NetworkPolicy suspect is confirmed by the probe run as the client, and ranks above node networking', async () => {
    const d = await diagnoseBundle(path.join(bundlesDir, 'probe-networkpolicy-from'));
    expect(d.ranking[0]).toMatchObject({ category: 'network_policy', score: 0.98 });
    expect(d.ranking[0]?.detail).toContain(
      "confirmed by the client's-eye probe from ip-10-0-3-67.ec2.internal as app/batch",
    );
    expect(d.ranking.find((r) => r.category === 'node_network')?.score).toBeLessThan(0.98);
  });

  it('kube-proxy suspects are confirmed, and a node-network suspect there weakened, when every endpoint answers directly', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-probe-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // The xtables-lock incident (iptables_sync on the target node) with the VIP-fails matrix there.
    await cp(path.join(bundlesDir, 'iptables-xtables-lock'), dir, { recursive: true });
    await cp(path.join(bundlesDir, 'probe-vip-fails', 'probe'), path.join(dir, 'probe'), { recursive: true });
    const d = await diagnoseBundle(dir);
    expect(d.rootCause.category).toBe('iptables_sync');
    expect(d.ranking[0]?.detail).toContain(
      "confirmed by the client's-eye probe from ip-10-0-2-45.ec2.internal",
    );
  });

  it('a probe that reached everything decides "none" where missing captures alone would leave it inconclusive', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-probe-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await cp(path.join(bundlesDir, 'probe-all-pass'), dir, { recursive: true });
    await rm(path.join(dir, 'nodes', n2), { recursive: true });
    const d = await diagnoseBundle(dir);
    expect(d.verdict).toBe('decisive');
    expect(d.rootCause.category).toBe('none');
    expect(d.missing.map((m) => m.check)).toContain('dataplane.rules');
    await rm(path.join(dir, 'probe'), { recursive: true });
    expect((await diagnoseBundle(dir)).verdict).toBe('inconclusive');
  });

  it('a probe that could not run is unknown for that node, naming why, and never decides', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-probe-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await cp(path.join(bundlesDir, 'probe-vip-fails'), dir, { recursive: true });
    await rm(path.join(dir, 'probe', n2, 'matrix.txt'));
    const { readFile, writeFile } = await import('node:fs/promises');
    const manifest = JSON.parse(await readFile(path.join(dir, 'bundle.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    manifest.notCollected = {
      [`probe/${n2}/matrix.txt`]: 'probe pod not created: forbidden: create pods in kube-system',
    };
    await writeFile(path.join(dir, 'bundle.json'), JSON.stringify(manifest));
    const d = await diagnoseBundle(dir);
    expect(d.verdict).toBe('inconclusive');
    const f = d.findings.find((x) => x.check === 'probe.path');
    expect(f?.status).toBe('unknown');
    expect(f?.nodes?.[n2]?.summary).toBe(
      'probe did not run: probe pod not created: forbidden: create pods in kube-system',
    );
  });

  it('a probe of another Service (the bundle diagnosed with another --service) speaks for nothing', async () => {
    const d = await diagnoseSource(new BundleSource(path.join(bundlesDir, 'probe-vip-fails')), {
      target: { namespace: 'kube-system', service: 'kube-dns', node: n2 },
    });
    const f = d.findings.find((x) => x.check === 'probe.path');
    expect(f?.status).toBe('unknown');
    expect(f?.nodes?.[n2]?.summary).toBe(
      "not this target's probe: the probe tried web-api.app.svc, not kube-dns.kube-system.svc",
    );
    expect(d.rootCause.detail).not.toContain("client's-eye probe");
  });

  it('an unreadable matrix is unknown, never half-read', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-probe-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await cp(path.join(bundlesDir, 'probe-vip-fails'), dir, { recursive: true });
    const { readFile, writeFile } = await import('node:fs/promises');
    const file = path.join(dir, 'probe', n2, 'matrix.txt');
    await writeFile(file, (await readFile(file, 'utf8')).replace('end\n', ''));
    const d = await diagnoseBundle(dir);
    expect(d.verdict).toBe('inconclusive');
    expect(d.findings.find((x) => x.check === 'probe.path')?.nodes?.[n2]?.summary).toContain(
      'unreadable: no "end" line: the output was cut short',
    );
  });
});

describe('the matrix in the reports', () => {
  it('text: one line per node under the root cause; Slack: a context block with it', async () => {
    const d = await diagnoseBundle(path.join(bundlesDir, 'probe-dns-fails'));
    const text = renderText(d);
    expect(text).toContain(
      `  probe ✗ from ${n2} (namespace kube-system): name ✗ timeout · VIP 172.20.91.14:80 ✓ 200 · pods 3/3 ✓ · API ✓ 403`,
    );
    const { blocks } = renderBlocks(d);
    const context = blocks.find((b) => b.type === 'context' && JSON.stringify(b).includes('*Probe*'));
    expect(JSON.stringify(context)).toContain(
      `:red_circle: *Probe* from ${n2} (namespace kube-system): name ✗ timeout`,
    );
    const pass = await diagnoseBundle(path.join(bundlesDir, 'probe-all-pass'));
    expect(renderText(pass)).toContain(
      `  probe ✓ from ${n2} (namespace kube-system): name ✓ 172.20.91.14 · VIP`,
    );
    expect(pass.rootCause.category).toBe('none');
  });

  it('no probe, no matrix line', async () => {
    const d = await diagnoseBundle(path.join(bundlesDir, 'healthy'));
    expect(renderText(d)).not.toContain('  probe ');
    expect(JSON.stringify(renderBlocks(d).blocks)).not.toContain('*Probe*');
  });
});
