/** Helpers for tests that need example bundles, copies of them, or tarballs. */
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RootCauseCategory } from '../../src/checks/types.js';

export const examplesDir = path.resolve(import.meta.dirname, '..', '..', 'examples');
export const bundlesDir = path.join(examplesDir, 'bundles');

export interface Expected {
  summary: string;
  category: RootCauseCategory;
  nodes: string[];
  evidence: string[];
}

export async function expectations(): Promise<Record<string, Expected>> {
  return JSON.parse(await readFile(path.join(examplesDir, 'expected.json'), 'utf8')) as Record<
    string,
    Expected
  >;
}

/** A private, writable copy of an example bundle. */
export async function copyExample(name: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kproxy-test-'));
  const dir = path.join(root, name);
  await cp(path.join(bundlesDir, name), dir, { recursive: true });
  return { dir, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** `tar czf OUT -C DIR ARGS…` with the system tar (what an operator would run). */
export function tarGz(out: string, cwd: string, args: string[]): void {
  execFileSync('tar', ['czf', out, '-C', cwd, ...args]);
}
