/**
 * Unpacking a `.tar.gz` bundle into a private temporary directory. Every entry is
 * checked before anything is written: only regular files and directories, only
 * relative paths that stay inside the bundle, bounded count and size. A bundle that
 * breaks a rule is refused whole, naming the offending entry.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { x as extractTar, t as listTar } from 'tar';
import { BundleError } from '../../errors.js';
import { bundleLimits } from './limits.js';

const allowedTypes = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory']);

export interface UnpackedBundle {
  readonly dir: string;
  cleanup(): Promise<void>;
}

export async function unpackBundleTarball(file: string): Promise<UnpackedBundle> {
  const name = path.basename(file);
  await inspectEntries(file, name);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-bundle-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    await extractTar({ file, cwd: dir, strict: true, preserveOwner: false, noChmod: true });
  } catch (error) {
    await cleanup();
    throw new BundleError(name, `cannot unpack: ${errorText(error)}`, { cause: error });
  }
  return { dir, cleanup };
}

async function inspectEntries(file: string, name: string): Promise<void> {
  let entries = 0;
  let bytes = 0;
  let problem: string | undefined;
  try {
    await stat(file);
    await listTar({
      file,
      strict: true,
      onReadEntry(entry) {
        if (problem) return;
        entries++;
        bytes += entry.size ?? 0;
        problem = entryProblem(entry.path, entry.type);
        if (!problem && entries > bundleLimits.maxTarEntries)
          problem = `more than ${bundleLimits.maxTarEntries} entries`;
        if (!problem && bytes > bundleLimits.maxTarBytes)
          problem = `unpacks to more than ${bundleLimits.maxTarBytes} bytes`;
      },
    });
  } catch (error) {
    throw new BundleError(name, `is not a readable .tar.gz (${errorText(error)})`, { cause: error });
  }
  if (problem) throw new BundleError(name, `refused: ${problem}`);
  if (entries === 0) throw new BundleError(name, 'is an empty archive');
}

export function entryProblem(entryPath: string, type: string): string | undefined {
  if (!allowedTypes.has(type)) {
    return `entry "${entryPath}" is a ${type}; bundles may hold only files and directories`;
  }
  if (entryPath.startsWith('/') || /^[a-zA-Z]:/.test(entryPath) || entryPath.includes('\\')) {
    return `entry "${entryPath}" has an absolute or non-POSIX path`;
  }
  if (entryPath.split('/').some((part) => part === '..')) {
    return `entry "${entryPath}" climbs out of the bundle with ".."`;
  }
  return undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
