/**
 * A bundle's manifest records why `kproxy collect` could not read a file (`notCollected`,
 * written by writeBundle). Reading the bundle offline quotes those reasons and keeps the
 * nodes they name, exactly as the live source's in-memory bundle does: found against the
 * lab, where the live diagnosis had the client's node (its node-proxy reads refused) and
 * the offline one of the same bundle did not, so dataplane.rules explained its `unknown`
 * differently (test/cluster/collect-bundle.test.ts).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import { MemoryBundle } from '../src/cluster/bundle/memory.js';
import { writeBundle } from '../src/cluster/bundle/write.js';
import type { ClusterView } from '../src/cluster/view.js';
import { KproxyError } from '../src/errors.js';
import { copyExample } from './helpers/bundles.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const refused = 'bad request: get nodes/proxy: lookup kwok-node-0 on 10.255.255.53:53: no such host';

async function load(dir: string): Promise<ClusterView> {
  const source = new BundleSource(dir);
  try {
    return await source.load();
  } finally {
    await source.close();
  }
}

describe('bundle manifest notCollected', () => {
  it('a bundle written by collect reads back with the reasons and nodes the live view had', async () => {
    const example = await copyExample('healthy');
    cleanups.push(example.cleanup);
    const live = new MemoryBundle();
    live.set('bundle.json', { content: await readFile(path.join(example.dir, 'bundle.json'), 'utf8') });
    live.set('nodes/kwok-node-0/healthz.json', { missing: refused });
    live.set('namespaces/app/pods.json', { missing: 'forbidden: list pods in app' });
    const root = await mkdtemp(path.join(os.tmpdir(), 'kproxy-test-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const out = path.join(root, 'b');
    await writeBundle(live, out);

    const view = await load(out);
    // Before: the node was absent offline and every reason read "not collected: …".
    expect(view.nodeCaptures.get('kwok-node-0')?.healthz).toEqual({ state: 'missing', reason: refused });
    expect(view.nodeCaptures.get('kwok-node-0')?.metrics).toEqual({
      state: 'missing',
      reason: 'not collected: nodes/kwok-node-0/metrics.txt',
    });
    expect(view.namespacePods).toEqual({ state: 'missing', reason: 'forbidden: list pods in app' });
    expect(await live.listDirs('nodes')).toEqual([...view.nodeCaptures.keys()].sort());
  });

  it('a file present in the bundle wins over a stale note', async () => {
    const { dir, cleanup } = await copyExample('healthy');
    cleanups.push(cleanup);
    const node = 'ip-10-0-2-45.ec2.internal';
    const manifest = JSON.parse(await readFile(path.join(dir, 'bundle.json'), 'utf8'));
    manifest.notCollected = { [`nodes/${node}/healthz.json`]: 'forbidden: get nodes/proxy' };
    await writeFile(path.join(dir, 'bundle.json'), JSON.stringify(manifest));
    expect((await load(dir)).nodeCaptures.get(node)?.healthz.state).toBe('collected');
  });

  it('refuses a note whose path leaves the bundle, naming the manifest', async () => {
    const { dir, cleanup } = await copyExample('healthy');
    cleanups.push(cleanup);
    const manifest = JSON.parse(await readFile(path.join(dir, 'bundle.json'), 'utf8'));
    manifest.notCollected = { 'nodes/../../etc/passwd': 'x' };
    await writeFile(path.join(dir, 'bundle.json'), JSON.stringify(manifest));
    const error = await load(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KproxyError);
    expect((error as Error).message).toBe(
      'bundle.json: is not a kproxy/v1 Bundle manifest: notCollected.nodes/../../etc/passwd: Invalid key in record',
    );
  });
});
