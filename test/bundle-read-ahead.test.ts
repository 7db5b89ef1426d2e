/**
 * Reads started ahead of the step that takes them (src/cluster/bundle/read-ahead.ts,
 * view-ahead.ts): a bundle with several bad files is refused for the same one every time,
 * the first in the steps' order (not the first read to finish); a read started ahead whose
 * step never comes is no unhandled rejection; and what is read ahead is read once, before
 * the list that decides it is parsed.
 */
import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import { BundleDir } from '../src/cluster/bundle/files.js';
import { allInOrder } from '../src/cluster/bundle/read-ahead.js';
import { KproxyError } from '../src/errors.js';
import { copyExample } from './helpers/bundles.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0)) await c();
});

async function example(name = 'healthy') {
  const copy = await copyExample(name);
  cleanups.push(copy.cleanup);
  return copy.dir;
}

/** Every fileSize call (each read's first step), so a test can wait for all reads to settle. */
function recordReads(): { rels: string[]; settled: () => Promise<void> } {
  const original = BundleDir.prototype.fileSize;
  const rels: string[] = [];
  const started: Promise<unknown>[] = [];
  vi.spyOn(BundleDir.prototype, 'fileSize').mockImplementation(function (this: BundleDir, rel: string) {
    rels.push(rel);
    const result = original.call(this, rel);
    started.push(result.catch(() => {}));
    return result;
  });
  return {
    rels,
    settled: async () => {
      // Reads settle into further reads (open, read, close): wait until no new one starts.
      for (let seen = -1; seen !== started.length; ) {
        seen = started.length;
        await Promise.allSettled(started);
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}

async function loadError(dir: string): Promise<string> {
  const source = new BundleSource(dir);
  try {
    await source.load();
  } catch (error) {
    expect(error).toBeInstanceOf(KproxyError);
    return (error as KproxyError).message;
  } finally {
    await source.close();
  }
  throw new Error('expected the bundle to be refused');
}

/** A list file of `bytes` whose JSON breaks at its very end: slow to read and parse. */
function bigBrokenList(bytes: number): string {
  const item = JSON.stringify({ kind: 'DaemonSet', metadata: { name: 'x'.repeat(200) } });
  const items = new Array(Math.ceil(bytes / item.length)).fill(item).join(',');
  return `{"kind":"DaemonSetList","items":[${items}]`;
}

describe('bundle reads started ahead', () => {
  it('of two bad files in one step, the first listed is refused, though the other fails sooner', async () => {
    const dir = await example();
    const ks = path.join(dir, 'namespaces/kube-system');
    // daemonsets.json comes first in its step; deployments.json, tiny, fails long before it.
    await writeFile(path.join(ks, 'daemonsets.json'), bigBrokenList(8 * 2 ** 20));
    await writeFile(path.join(ks, 'deployments.json'), '{"kind":');
    for (let i = 0; i < 3; i++) {
      expect(await loadError(dir)).toMatch(/^namespaces\/kube-system\/daemonsets\.json: is not valid JSON/);
    }
  });

  it("a bad file read ahead is reported in its step's turn: an earlier step's bad file wins", async () => {
    const dir = await example();
    // The events are read ahead, before the target's Service list, but taken after it.
    const services = path.join(dir, 'namespaces/app/services.json');
    const good = await readFile(services, 'utf8');
    await writeFile(path.join(dir, 'namespaces/kube-system/events.json'), '{"kind":');
    await writeFile(services, '[');
    expect(await loadError(dir)).toMatch(/^namespaces\/app\/services\.json: is not valid JSON/);
    await writeFile(services, good);
    expect(await loadError(dir)).toMatch(/^namespaces\/kube-system\/events\.json: is not valid JSON/);
  });

  it('a read started ahead that fails, when an earlier step refuses the bundle, is no unhandled rejection', async () => {
    const dir = await example();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const reads = recordReads();
      // The target node's iptables-save (read ahead once the node scope is known) is a link,
      // refused when read; the events step before the captures refuses the bundle first.
      const capture = path.join(dir, 'nodes/ip-10-0-2-45.ec2.internal/iptables-save.txt');
      await rm(capture);
      await symlink('/etc/hostname', capture);
      await writeFile(path.join(dir, 'namespaces/default/events.json'), '{"kind":');
      expect(await loadError(dir)).toMatch(/^namespaces\/default\/events\.json: is not valid JSON/);
      expect(reads.rels).toContain('nodes/ip-10-0-2-45.ec2.internal/iptables-save.txt');
      await reads.settled();
      expect(unhandled).toEqual([]);
      // Alone, the link is refused by name, as before.
      await writeFile(path.join(dir, 'namespaces/default/events.json'), '{"kind":"EventList","items":[]}');
      expect(await loadError(dir)).toBe(
        'nodes/ip-10-0-2-45.ec2.internal/iptables-save.txt: is a symbolic link; bundles may not contain links',
      );
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('the captures and kube-proxy logs are read before nodes.json is parsed, each file once', async () => {
    const dir = await example();
    const nodesText = await readFile(path.join(dir, 'nodes.json'), 'utf8');
    const reads = recordReads();
    const parse = JSON.parse;
    let readsBeforeNodesParsed: string[] | undefined;
    vi.spyOn(JSON, 'parse').mockImplementation((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
      if (text === nodesText) readsBeforeNodesParsed ??= [...reads.rels];
      return parse(text, reviver);
    });
    const source = new BundleSource(dir);
    const view = await source.load();
    await source.close();
    expect(view.nodeCaptures.get('ip-10-0-2-45.ec2.internal')?.iptablesSave.state).toBe('collected');
    expect(readsBeforeNodesParsed).toEqual(
      expect.arrayContaining([
        'nodes/ip-10-0-2-45.ec2.internal/iptables-save.txt',
        'namespaces/kube-system/events.json',
      ]),
    );
    const logs = [...view.kubeProxy.logs.values()];
    expect(logs.length).toBeGreaterThan(0);
    for (const log of logs)
      expect(readsBeforeNodesParsed).toContain(`logs/kube-system/${log.pod}/${log.container}.log`);
    expect(reads.rels).toEqual([...new Set(reads.rels)]);
  });
});

describe('allInOrder', () => {
  it('resolves like Promise.all; of several failures, throws the first in the list', async () => {
    expect(await allInOrder([Promise.resolve(1), 'two', Promise.resolve(3)])).toEqual([1, 'two', 3]);
    let later: (reason: Error) => void = () => {};
    const first = new Promise<never>((_, reject) => {
      later = reject;
    });
    const result = allInOrder([first, Promise.reject(new Error('second'))]);
    later(new Error('first'));
    await expect(result).rejects.toThrow('first');
  });
});
