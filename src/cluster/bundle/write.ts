/**
 * Writing an in-memory bundle to disk as a directory or a `.tar.gz`, all or nothing:
 * files go to a private temporary directory first and reach `out` by one rename.
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { c as createTar } from 'tar';
import { KproxyError } from '../../errors.js';
import { contentText, type MemoryBundle } from './memory.js';

export interface WrittenBundle {
  readonly path: string;
  readonly files: number;
  readonly bytes: number;
  /** Files that could not be collected, with why (`forbidden: list pods in app (RBAC…)`). */
  readonly notCollected: Readonly<Record<string, string>>;
}

export async function writeBundle(bundle: MemoryBundle, out: string): Promise<WrittenBundle> {
  const target = path.resolve(out);
  const tarball = /\.(tar\.gz|tgz)$/.test(target);
  await refuseExisting(target, tarball);
  const parent = path.dirname(target);
  await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(path.join(parent, `.${path.basename(target)}.partial-`));
  try {
    const notCollected: Record<string, string> = {};
    let files = 0;
    let bytes = 0;
    for (const [rel, entry] of bundle.entries) {
      if ('missing' in entry) {
        notCollected[rel] = entry.missing;
        continue;
      }
      if (rel.split('/').some((p) => p === '..' || p === '') || path.isAbsolute(rel))
        throw new KproxyError('internal', `refusing to write bundle path ${rel}`);
      const content = contentText(entry.content);
      const full = path.join(staging, rel);
      await mkdir(path.dirname(full), { recursive: true });
      await writeFile(full, content);
      files++;
      bytes += Buffer.byteLength(content);
    }
    // Record in the manifest what could not be read and why, for whoever opens the bundle later.
    const manifestPath = path.join(staging, 'bundle.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
    await writeFile(manifestPath, `${JSON.stringify({ ...manifest, notCollected }, null, 2)}\n`);
    if (tarball) {
      const tmpTar = `${staging}.tar.gz`;
      await createTar({ gzip: true, file: tmpTar, cwd: staging, portable: true }, await readdir(staging));
      await rename(tmpTar, target);
    } else {
      await rename(staging, target);
    }
    return { path: target, files, bytes, notCollected };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function refuseExisting(target: string, tarball: boolean): Promise<void> {
  try {
    const s = await stat(target);
    if (tarball || !s.isDirectory() || (await readdir(target)).length > 0) {
      throw new KproxyError('usage', `--out ${target} already exists; kproxy does not overwrite bundles`);
    }
    await rm(target, { recursive: true });
  } catch (error) {
    if (error instanceof KproxyError) throw error;
  }
}
