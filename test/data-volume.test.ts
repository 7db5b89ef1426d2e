/**
 * Issue 16, data volume: what a diagnosis reads does not grow with the cluster. Offline,
 * lists are selected before they are validated and `diagnose --bundle` loads no live-only
 * module; live without `--node`, per-node reads cover the nodes of the Service's endpoints
 * (bounded), and a cluster-wide kube-proxy crash is still seen. Request and byte counts
 * are deterministic; nothing here measures time.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeLargeBundle } from '../bench/large-bundle.js';
import { maxScopedNodes } from '../src/checks/lib/scope.js';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import { JsonDocument } from '../src/cluster/bundle/memory.js';
import type { Node } from '../src/cluster/kube-types.js';
import { diagnoseSource } from '../src/engine/engine.js';
import { bundlesDir } from './helpers/bundles.js';
import { BundleCopies, diagnoseDir, findingOf, n1, n2, n3 } from './helpers/edit-bundle.js';
import { type Served, serve } from './helpers/live.js';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const copies = new BundleCopies();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await copies.cleanup();
  for (const c of cleanups.splice(0)) await c();
});

describe('offline: select before validating', () => {
  it('a node outside the scope is not validated; an invalid node in scope is refused by name', async () => {
    const broken = (name: string) =>
      copies.edit('healthy', (b) =>
        b.json<{ items: Node[] }>('nodes.json', (doc) => {
          const node = doc.items.find((n) => n.metadata.name === name) as { status: unknown };
          node.status = { conditions: 'not a list' };
        }),
      );
    // The target node is n2: n1 is read for its name only.
    const d = await diagnoseDir(await broken(n1));
    expect(d.rootCause.category).toBe('none');
    const source = new BundleSource(await broken(n2));
    await expect(source.load()).rejects.toThrow(
      /^nodes\.json: items\[1\] is not a valid Node: status\.conditions/,
    );
  });

  it("of the target namespace's pods, those the checks read are validated: selected, first near misses, target-health gated", async () => {
    type PodDoc = {
      metadata: { name: string; labels?: Record<string, string> };
      spec: unknown;
      status?: unknown;
    };
    // web-api selects app=web-api: every other pod of the namespace misses it by one label.
    const withOthers = (edit: (others: PodDoc[], selected: PodDoc[]) => void) =>
      copies.edit('healthy', (b) =>
        b.json<{ items: PodDoc[] }>('namespaces/app/pods.json', (doc) => {
          const others = [1, 2, 3, 4, 5].map((i) => {
            const pod = structuredClone(doc.items[0]) as PodDoc;
            pod.metadata.name = `other-${i}`;
            pod.metadata.labels = { app: `other-${i}` };
            return pod;
          });
          edit(others, doc.items);
          doc.items.push(...others);
        }),
      );
    const malformed = (pod: PodDoc) => {
      pod.spec = { containers: 'not a list' };
    };
    // The 4th and 5th near misses are never read (endpoints-ready names the first 3).
    const unread = await withOthers((others) => {
      malformed(others[3] as PodDoc);
      malformed(others[4] as PodDoc);
    });
    expect((await diagnoseDir(unread)).rootCause.category).toBe('none');
    const view = await new BundleSource(unread).load();
    expect(
      view.namespacePods.state === 'collected' && view.namespacePods.value.map((p) => p.metadata.name),
    ).toEqual([
      'web-api-7c9d8b6f5d-4xkqp',
      'web-api-7c9d8b6f5d-8mzt2',
      'web-api-7c9d8b6f5d-q7rjn',
      'other-1',
      'other-2',
      'other-3',
    ]);
    // A near miss that is named, or that carries a target-health gate, is read: refused by name.
    const named = await withOthers((others) => malformed(others[2] as PodDoc));
    await expect(new BundleSource(named).load()).rejects.toThrow(
      /^namespaces\/app\/pods\.json: items\[5\] is not a valid Pod: spec\.containers/,
    );
    const gated = await withOthers((others) => {
      const pod = others[4] as PodDoc;
      malformed(pod);
      pod.status = { conditions: [{ type: 'target-health.elbv2.k8s.aws/k8s-app-webapi', status: 'True' }] };
    });
    await expect(new BundleSource(gated).load()).rejects.toThrow(
      /^namespaces\/app\/pods\.json: items\[7\] is not a valid Pod: spec\.containers/,
    );
    const selected = await withOthers((_, pods) => malformed(pods[1] as PodDoc));
    await expect(new BundleSource(selected).load()).rejects.toThrow(
      /^namespaces\/app\/pods\.json: items\[1\] is not a valid Pod: spec\.containers/,
    );
  });

  it('the big lists, parsed one at a time after the small ones, are still refused by name', async () => {
    const truncated = await copies.edit('healthy', async (b) => {
      const text = await b.read('namespaces/kube-system/pods.json');
      await b.write('namespaces/kube-system/pods.json', text.slice(0, text.length / 2));
    });
    await expect(new BundleSource(truncated).load()).rejects.toThrow(
      /^namespaces\/kube-system\/pods\.json: is not valid JSON/,
    );
    const wrongKind = await copies.edit('healthy', (b) =>
      b.json<{ items: { kind?: string }[] }>('nodes.json', (doc) => {
        (doc.items[2] as { kind?: string }).kind = 'Pod';
      }),
    );
    await expect(new BundleSource(wrongKind).load()).rejects.toThrow(
      /^nodes\.json: items\[2\] is a Pod, expected Node$/,
    );
  });

  it('a nameless item is refused wherever it is in the list', async () => {
    const dir = await copies.edit('healthy', (b) =>
      b.json<{ items: { metadata: { name?: string } }[] }>('nodes.json', (doc) => {
        delete (doc.items[0] as { metadata: { name?: string } }).metadata.name;
      }),
    );
    await expect(new BundleSource(dir).load()).rejects.toThrow(
      /^nodes\.json: items\[0\] is not a valid Node: metadata\.name: is required/,
    );
  });

  it('diagnose --bundle loads neither @kubernetes/client-node, the AWS SDK nor tar', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-hook-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const hook = path.join(dir, 'hook.mjs');
    await writeFile(
      hook,
      `import { registerHooks } from 'node:module';
registerHooks({ load(url, ctx, next) { if (/node_modules\\/(@kubernetes\\/client-node|@aws-sdk|tar)\\//.test(url)) process.stderr.write('LOADED ' + url + '\\n'); return next(url, ctx); } });
`,
    );
    const run = (...args: string[]) =>
      exec(process.execPath, ['--import', 'tsx', '--import', hook, 'src/cli/main.ts', ...args], {
        cwd: root,
      }).catch((e: { stdout: string; stderr: string }) => e);
    const offline = await run('diagnose', '--bundle', path.join(bundlesDir, 'healthy'), '--format', 'json');
    expect(offline.stderr).not.toContain('LOADED');
    expect(JSON.parse(offline.stdout).rootCause.category).toBe('none');
    // The hook does see them when a live diagnosis loads them.
    const live = await run('diagnose', '--kubeconfig', path.join(dir, 'absent'), '--context', 'x');
    expect(live.stderr).toContain('LOADED');
  }, 60_000);
});

/** Service svc-00000 of ns-000 has 4 pods on nodes 0–3 at every size (4 pods per Service). */
const sized = (nodes: number) => ({
  nodes,
  podsPerNode: 2,
  services: (nodes * 2) / 4,
  namespaces: 2,
  capturedNodes: 1,
});

describe('live without --node: cost does not grow with the cluster', () => {
  const served: Record<number, Served> = {};
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-volume-'));
    for (const nodes of [20, 400]) {
      await writeLargeBundle(path.join(dir, String(nodes)), sized(nodes));
      served[nodes] = await serve(path.join(dir, String(nodes)));
    }
  }, 120_000);
  afterAll(async () => {
    for (const s of Object.values(served)) await s.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const once = async (nodes: number) => {
    const s = served[nodes] as Served;
    const source = s.source({ nodeCaptures: 'off' });
    const before = s.server.requests.length;
    const d = await diagnoseSource(source, { target: { namespace: 'ns-000', service: 'svc-00000' } });
    return { d, stats: { ...source.http.stats }, requests: s.server.requests.slice(before) };
  };

  it('the same requests at 20 and 400 nodes, bytes within 1.1×, no node or cluster-wide pod list', async () => {
    const small = await once(20);
    const large = await once(400);
    expect(large.stats.requests).toBe(small.stats.requests);
    expect(large.stats.bytes / small.stats.bytes).toBeLessThanOrEqual(1.1);
    for (const r of large.requests) {
      expect(`${r.path}?${new URLSearchParams(r.query)}`).not.toMatch(/^\/api\/v1\/nodes\?/);
      if (r.path === '/api/v1/namespaces/kube-system/pods')
        expect(r.query.fieldSelector ?? r.query.labelSelector).toMatch(
          /^(spec\.nodeName=|k8s-app=kube-dns$)/,
        );
    }
    expect(large.d.rootCause.category).toBe(small.d.rootCause.category);
  });

  it('examines at most a bounded set of endpoint nodes, and says how many were not examined', async () => {
    const { d, requests } = await once(400);
    const examined = requests.filter((r) => /^\/api\/v1\/nodes\/[^/]+$/.test(r.path)).map((r) => r.path);
    expect(examined).toHaveLength(maxScopedNodes);
    expect(d.nodes.length).toBeLessThanOrEqual(maxScopedNodes);
    expect(findingOf(d, 'nodes.conditions').evidence.join('\n')).toMatch(
      /^examined 3 of 400 node\(s\) node by node: the nodes hosting svc-00000's endpoints.*\(1 more such node\(s\) left out.*397 node\(s\) not examined/m,
    );
  });

  it('hands the parsed lists to the view: nothing is printed and parsed back', async () => {
    const source = (served[20] as Served).source({ nodeCaptures: 'off' });
    const { bundle } = await source.collect({ target: { namespace: 'ns-000', service: 'svc-00000' } });
    for (const rel of ['nodes.json', 'namespaces/kube-system/pods.json', 'namespaces/ns-000/pods.json'])
      expect((bundle.entries.get(rel) as { content: unknown }).content, rel).toBeInstanceOf(JsonDocument);
  });
});

describe('a cluster-wide kube-proxy crash is still seen without --node', () => {
  it('live and offline: every node named, CRITICAL', async () => {
    const s = await serve(path.join(bundlesDir, 'crashloop-all-nodes'));
    cleanups.push(s.stop);
    const live = await diagnoseSource(s.source(), { target: { namespace: 'app', service: 'web-api' } });
    expect(live.rootCause).toMatchObject({ category: 'pod_crash', nodes: [n1, n2, n3] });
    expect(live.severity).toBe('CRITICAL');
    const dir = await copies.edit('crashloop-all-nodes', (b) =>
      b.json<{ target: Record<string, unknown> }>('bundle.json', (doc) => {
        doc.target.node = null;
      }),
    );
    const offline = await diagnoseDir(dir);
    expect(offline.rootCause).toMatchObject({ category: 'pod_crash', nodes: [n1, n2, n3] });
    expect(offline.severity).toBe('CRITICAL');
  });
});
