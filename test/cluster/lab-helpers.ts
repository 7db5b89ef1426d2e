/** What the cluster tests do with the lab: kubectl as its admin, kproxy's identity, waits. */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { kubectl } from '../../lab/src/kubectl.js';
import type { LabInfo } from './lab-global-setup.js';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export const admin = (lab: LabInfo, args: string[], input?: string) =>
  kubectl(lab.adminKubeconfig, args, input);

/** `kubectl kustomize deploy/base`, exactly what an operator applies. */
export async function renderBase(): Promise<Manifest[]> {
  const { stdout } = await run('kubectl', ['kustomize', path.join(repoRoot, 'deploy/base')], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return parseAllDocuments(stdout).map((d) => d.toJS() as Manifest);
}

export const asList = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });

/**
 * A kubeconfig holding a token the lab's apiserver issued for a service account
 * (TokenRequest via `kubectl create token`): kproxy then runs as that account exactly.
 */
export async function serviceAccountKubeconfig(
  lab: LabInfo,
  namespace: string,
  name: string,
  file: string,
): Promise<string> {
  const token = (await admin(lab, ['create', 'token', name, '-n', namespace, '--duration=1h'])).trim();
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lab', cluster: { server: lab.server, 'certificate-authority': lab.caCert } }],
    users: [{ name, user: { token } }],
    contexts: [{ name: 'lab', context: { cluster: 'lab', user: name } }],
    'current-context': 'lab',
  };
  await writeFile(file, JSON.stringify(kubeconfig), { mode: 0o600 });
  return file;
}

/** Polls until `probe` holds; the bound is generous and only ends a test that would hang. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  boundMs = 240_000,
): Promise<T> {
  const deadline = Date.now() + boundMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`gave up waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The kproxy CLI as an operator runs it (tsx src/cli/main.ts), under this Node. */
export async function kproxyCli(args: string[]): Promise<CliResult> {
  const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');
  try {
    const { stdout, stderr } = await run(tsx, [path.join(repoRoot, 'src/cli/main.ts'), ...args], {
      cwd: repoRoot,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? null, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
