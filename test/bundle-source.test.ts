/**
 * BundleSource against bad and partial bundles: clear errors that name the file,
 * refused tarballs, "missing" kept apart from "empty", logs read with bounded memory.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import { bundleLimits } from '../src/cluster/bundle/limits.js';
import { entryProblem } from '../src/cluster/bundle/tarball.js';
import { diagnose, diagnoseSource } from '../src/engine/engine.js';
import { BundleError, KproxyError } from '../src/errors.js';
import { bundlesDir, copyExample, tarGz } from './helpers/bundles.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function example(name = 'healthy') {
  const copy = await copyExample(name);
  cleanups.push(copy.cleanup);
  return copy.dir;
}

async function loadError(dir: string): Promise<KproxyError> {
  const source = new BundleSource(dir);
  try {
    await source.load();
  } catch (error) {
    expect(error).toBeInstanceOf(KproxyError);
    return error as KproxyError;
  } finally {
    await source.close();
  }
  throw new Error('expected the bundle to be refused');
}

describe('BundleSource: malformed input', () => {
  it('names the file and the problem for broken JSON', async () => {
    const dir = await example();
    await writeFile(path.join(dir, 'namespaces/app/pods.json'), '{"apiVersion":"v1","items":[{');
    const error = await loadError(dir);
    expect(error).toBeInstanceOf(BundleError);
    expect(error.message).toMatch(/^namespaces\/app\/pods\.json: is not valid JSON/);
  });

  it('refuses a list of the wrong kind', async () => {
    const dir = await example();
    const services = await readFile(path.join(dir, 'namespaces/app/services.json'), 'utf8');
    await writeFile(path.join(dir, 'namespaces/app/pods.json'), services);
    const error = await loadError(dir);
    expect(error.message).toBe('namespaces/app/pods.json: items[0] is a Service, expected Pod');
  });

  it('refuses a typed list of another kind and a non-list document', async () => {
    const dir = await example();
    await writeFile(path.join(dir, 'nodes.json'), JSON.stringify({ kind: 'PodList', items: [] }));
    expect((await loadError(dir)).message).toMatch(/^nodes\.json: expected kind NodeList/);
    await writeFile(path.join(dir, 'nodes.json'), '[1,2,3]');
    expect((await loadError(dir)).message).toBe('nodes.json: expected a NodeList object, found an array');
  });

  it('refuses an object that lacks required fields, naming the path', async () => {
    const dir = await example();
    await writeFile(
      path.join(dir, 'namespaces/app/services.json'),
      JSON.stringify({ kind: 'List', items: [{ kind: 'Service', metadata: {}, spec: {} }] }),
    );
    // In words, not zod's "Invalid input: expected string, received undefined".
    expect((await loadError(dir)).message).toMatch(
      /^namespaces\/app\/services\.json: items\[0\] is not a valid Service: metadata\.name: is required \(a string\)/,
    );
  });

  it('requires a valid manifest', async () => {
    const dir = await example();
    await rm(path.join(dir, 'bundle.json'));
    expect((await loadError(dir)).message).toBe(
      'bundle.json: missing: every bundle starts with its manifest',
    );
    await writeFile(
      path.join(dir, 'bundle.json'),
      JSON.stringify({
        apiVersion: 'kproxy/v2',
        kind: 'Bundle',
        cluster: 'x',
        collectedAt: '2026-11-22T10:00:00Z',
      }),
    );
    expect((await loadError(dir)).message).toMatch(
      /^bundle\.json: is not a kproxy\/v1 Bundle manifest: apiVersion/,
    );
  });

  it('says plainly when the path is not a bundle', async () => {
    expect((await loadError('/nonexistent/bundle')).message).toBe(
      '/nonexistent/bundle: no such bundle directory or file',
    );
    const dir = await example();
    expect((await loadError(path.join(dir, 'version.json'))).message).toMatch(
      /a bundle is a directory or a \.tar\.gz file/,
    );
  });

  it('refuses symbolic links inside a directory bundle', async () => {
    const dir = await example();
    await rm(path.join(dir, 'nodes.json'));
    await symlink('/etc/passwd', path.join(dir, 'nodes.json'));
    expect((await loadError(dir)).message).toBe(
      'nodes.json: is a symbolic link; bundles may not contain links',
    );
  });
});

describe('BundleSource: text', () => {
  it('reads UTF-8 files and logs byte for byte, whether ASCII or not', async () => {
    const dir = await example();
    const services = path.join(dir, 'namespaces/app/services.json');
    const doc = JSON.parse(await readFile(services, 'utf8')) as {
      items: { metadata: { annotations?: Record<string, string> } }[];
    };
    const note = 'équipe paiements — 支払い 🚀';
    (doc.items[0] as { metadata: { annotations?: Record<string, string> } }).metadata.annotations = { note };
    await writeFile(services, JSON.stringify(doc));
    const log = path.join(dir, 'logs/kube-system/kube-proxy-k2v9d/kube-proxy.log');
    await writeFile(log, `${await readFile(log, 'utf8')}I1122 09:59:00.000000       1 proxier.go:1] "é ü"\n`);
    const view = await new BundleSource(dir).load();
    expect(view.service.state === 'collected' && view.service.value?.metadata.annotations?.note).toBe(note);
    const lines = view.kubeProxy.logs.get('kube-proxy-k2v9d')?.current;
    expect(lines?.state === 'collected' && lines.value.lines.at(-1)).toBe(
      'I1122 09:59:00.000000       1 proxier.go:1] "é ü"',
    );
  });
});

describe('BundleSource: tarballs', () => {
  it('diagnoses a .tar.gz exactly like the directory, in both archive layouts', async () => {
    const dir = await example('stale-endpoints');
    const root = path.dirname(dir);
    const flat = path.join(root, 'flat.tar.gz');
    const nested = path.join(root, 'nested.tgz');
    tarGz(flat, dir, ['.']);
    tarGz(nested, root, ['stale-endpoints']);
    const fromDir = await diagnoseSource(new BundleSource(dir));
    for (const file of [flat, nested]) {
      const fromTar = await diagnoseSource(new BundleSource(file));
      expect(fromTar.rootCause).toEqual(fromDir.rootCause);
      expect(fromTar.findings).toEqual(fromDir.findings);
    }
  });

  it('refuses an archive with ../ paths before writing anything', async () => {
    const dir = await example();
    const root = path.dirname(dir);
    await writeFile(path.join(root, 'evil.txt'), 'x');
    const file = path.join(root, 'evil.tar.gz');
    tarGz(file, dir, ['--transform', 's,^\\./evil,../evil,', '.', '-C', root, './evil.txt']);
    const error = await loadError(file);
    expect(error.message).toMatch(
      /^evil\.tar\.gz: refused: entry "\.\.\/evil\.txt" climbs out of the bundle/,
    );
  });

  it('refuses an archive holding a symbolic link', async () => {
    const dir = await example();
    await symlink('/etc/shadow', path.join(dir, 'shadow'));
    const file = path.join(path.dirname(dir), 'link.tar.gz');
    tarGz(file, dir, ['.']);
    expect((await loadError(file)).message).toMatch(
      /^link\.tar\.gz: refused: entry "\.\/shadow" is a SymbolicLink/,
    );
  });

  it('refuses a corrupt archive with a clear error', async () => {
    const dir = await example();
    const file = path.join(path.dirname(dir), 'broken.tar.gz');
    await writeFile(file, Buffer.from('1f8b0800000000000003ffffff', 'hex'));
    expect((await loadError(file)).message).toMatch(/^broken\.tar\.gz: is not a readable \.tar\.gz/);
  });

  it('classifies entry paths', () => {
    expect(entryProblem('./nodes.json', 'File')).toBeUndefined();
    expect(entryProblem('bundle/logs/', 'Directory')).toBeUndefined();
    expect(entryProblem('/etc/passwd', 'File')).toMatch(/absolute/);
    expect(entryProblem('a/../../b', 'File')).toMatch(/climbs out/);
    expect(entryProblem('x', 'Link')).toMatch(/is a Link/);
    expect(entryProblem('x', 'CharacterDevice')).toMatch(/only files and directories/);
  });
});

describe('BundleSource: missing is not empty', () => {
  it('a missing EndpointSlice file leaves the check unknown; an empty list is "no endpoints"', async () => {
    const dir = await example();
    await rm(path.join(dir, 'namespaces/app/endpointslices.json'));
    let d = await diagnoseSource(new BundleSource(dir));
    expect(d.findings.find((f) => f.check === 'endpoints.ready')?.status).toBe('unknown');
    expect(d.findings.find((f) => f.check === 'endpoints.ready')?.summary).toContain(
      'not collected: namespaces/app/endpointslices.json',
    );

    await writeFile(
      path.join(dir, 'namespaces/app/endpointslices.json'),
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [] }),
    );
    d = await diagnoseSource(new BundleSource(dir));
    expect(d.rootCause.category).toBe('no_endpoints');
  });

  it('without node captures the dataplane is unknown, never pass', async () => {
    const dir = await example('stale-endpoints');
    await rm(path.join(dir, 'nodes'), { recursive: true });
    const d = await diagnoseSource(new BundleSource(dir));
    const dataplane = d.findings.find((f) => f.check === 'dataplane.rules');
    expect(dataplane?.status).toBe('unknown');
    // The data that decides is missing and nothing else shows a fault: inconclusive, not none.
    expect(d.rootCause.category).toBe('inconclusive');
    expect(d.verdict).toBe('inconclusive');
    expect(d.rootCause.detail).toContain('dataplane.rules: no node captures');
  });

  it('a missing iptables-save on the node names the file', async () => {
    const dir = await example('stale-endpoints');
    await rm(path.join(dir, 'nodes/ip-10-0-2-45.ec2.internal/iptables-save.txt'));
    const d = await diagnoseSource(new BundleSource(dir));
    const dataplane = d.findings.find((f) => f.check === 'dataplane.rules');
    expect(dataplane?.status).toBe('unknown');
    expect(dataplane?.nodes?.['ip-10-0-2-45.ec2.internal']?.summary).toBe(
      'not collected: nodes/ip-10-0-2-45.ec2.internal/iptables-save.txt',
    );
  });
});

describe('BundleSource: huge logs', () => {
  it('keeps only the tail of a log far larger than the bound', async () => {
    const dir = await example('healthy');
    const file = path.join(dir, 'logs/kube-system/kube-proxy-k2v9d/kube-proxy.log');
    await mkdir(path.dirname(file), { recursive: true });
    const lines = 400_000;
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(file);
      out.on('error', reject);
      let i = 0;
      const write = () => {
        let ok = true;
        while (i < lines && ok) {
          ok = out.write(
            `I1122 09:${String(Math.floor(i / 7000) % 60).padStart(2, '0')}:00.000000       1 proxier.go:799] "SyncProxyRules complete" elapsed="61.0ms" n=${i}\n`,
          );
          i++;
        }
        if (i < lines) out.once('drain', write);
        else out.end(resolve);
      };
      write();
    });
    const source = new BundleSource(dir);
    const view = await source.load();
    await source.close();
    const log = view.kubeProxy.logs.get('kube-proxy-k2v9d')?.current;
    expect(log?.state).toBe('collected');
    if (log?.state !== 'collected') return;
    expect(log.value.truncated).toBe(true);
    expect(log.value.lines).toHaveLength(bundleLimits.logTailLines);
    expect(log.value.lines.at(-1)).toContain(`n=${lines - 1}`);
    expect(log.value.lines[0]).toContain(`n=${lines - bundleLimits.logTailLines}`);
    expect(diagnose(view).rootCause.category).toBe('none');
  });
});

describe('BundleSource: target overrides', () => {
  it('uses the bundle target unless the caller names another', async () => {
    const source = new BundleSource(path.join(bundlesDir, 'healthy'));
    const own = await source.load();
    expect(own.target).toEqual({ namespace: 'app', service: 'web-api', node: 'ip-10-0-2-45.ec2.internal' });
    const other = await source.load({ target: { namespace: 'kube-system', service: 'kube-dns' } });
    expect(other.target).toEqual({
      namespace: 'kube-system',
      service: 'kube-dns',
      node: 'ip-10-0-2-45.ec2.internal',
    });
    await source.close();
  });
});
