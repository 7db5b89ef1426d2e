/**
 * The CLI as `npm run build` ships it: bin/kproxy.js runs the esbuild bundle
 * (scripts/bundle-cli.mjs, dist/bundle/) when present, else tsc's dist/cli/main.js. Both are
 * built here into a temporary directory (a copy of the layout: package.json, bin/, dist/,
 * node_modules linked) and must print the same bytes with the same exit status, for
 * diagnoses (the bundle's lazy chunks too: a .tar.gz, `config check`), help and bad input.
 */
import { execFile, spawn } from 'node:child_process';
import {
  copyFile,
  cp,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundlesDir, tarGz } from './helpers/bundles.js';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
let work = '';
let tarball = '';
let badNodes = '';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function node(args: readonly string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [...args], { cwd: root, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

const viaBin = (...argv: string[]) => node([path.join(work, 'bin', 'kproxy.js'), ...argv]);
const viaBundle = (...argv: string[]) => node([path.join(work, 'dist', 'bundle', 'main.js'), ...argv]);
const viaModules = (...argv: string[]) => node([path.join(work, 'dist', 'cli', 'main.js'), ...argv]);

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'kproxy-cli-bundle-'));
  await mkdir(path.join(work, 'bin'));
  await copyFile(path.join(root, 'bin', 'kproxy.js'), path.join(work, 'bin', 'kproxy.js'));
  await copyFile(path.join(root, 'package.json'), path.join(work, 'package.json'));
  await symlink(path.join(root, 'node_modules'), path.join(work, 'node_modules'), 'dir');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  await exec(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(work, 'dist')], {
    cwd: root,
  });
  await exec(
    process.execPath,
    [path.join(root, 'scripts', 'bundle-cli.mjs'), path.join(work, 'dist', 'bundle')],
    {
      cwd: root,
    },
  );
  tarball = path.join(work, 'stale-endpoints.tar.gz');
  tarGz(tarball, path.join(bundlesDir, 'stale-endpoints'), ['.']);
  // A Node whose name is a number: zod's issue, in words, names the file and the item.
  badNodes = path.join(work, 'bad-nodes');
  await cp(path.join(bundlesDir, 'healthy'), badNodes, { recursive: true });
  await writeFile(
    path.join(badNodes, 'nodes.json'),
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ metadata: { name: 5 } }] }),
  );
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the bundled CLI (dist/bundle) against tsc output (dist/cli)', () => {
  const cases: Record<string, () => string[]> = {
    'diagnose healthy (json)': () => [
      'diagnose',
      '--bundle',
      path.join(bundlesDir, 'healthy'),
      '--format',
      'json',
    ],
    'diagnose stale-endpoints (json)': () => [
      'diagnose',
      '--bundle',
      path.join(bundlesDir, 'stale-endpoints'),
      '--format',
      'json',
    ],
    'diagnose kube-proxy-crashloop (json)': () => [
      'diagnose',
      '--bundle',
      path.join(bundlesDir, 'kube-proxy-crashloop'),
      '--format',
      'json',
    ],
    'diagnose conntrack-exhaustion (yaml)': () => [
      'diagnose',
      '--bundle',
      path.join(bundlesDir, 'conntrack-exhaustion'),
      '--format',
      'yaml',
    ],
    // EKS documents (EC2, audit) and an Ingress target: the schemas built on first use.
    'diagnose eks-sg-missing-443 (json)': () => [
      'diagnose',
      '--bundle',
      path.join(bundlesDir, 'eks-sg-missing-443'),
      '--format',
      'json',
    ],
    'diagnose ingress-backend-no-endpoints (json)': () => [
      'diagnose',
      '--bundle',
      path.join(bundlesDir, 'ingress-backend-no-endpoints'),
      '--format',
      'json',
    ],
    'diagnose a .tar.gz (lazy chunk)': () => ['diagnose', '--bundle', tarball, '--format', 'json'],
    'config check (lazy chunk)': () => ['config', 'check', path.join(root, 'kproxy.example.yaml')],
    'no such bundle': () => ['diagnose', '--bundle', '/no/such'],
    'an invalid node list (zod)': () => ['diagnose', '--bundle', badNodes, '--format', 'json'],
    'bad --format': () => ['diagnose', '--bundle', path.join(bundlesDir, 'healthy'), '--format', 'nope'],
    '--help': () => ['--help'],
    'diagnose --help': () => ['diagnose', '--help'],
  };

  for (const [name, argv] of Object.entries(cases)) {
    it(`${name}: same stdout, stderr and exit status`, async () => {
      const [bundled, modules] = await Promise.all([viaBundle(...argv()), viaModules(...argv())]);
      expect(bundled).toEqual(modules);
    });
  }

  it('takes Node built-ins from process.getBuiltinModule, not static imports (no ES facade)', async () => {
    const dir = path.join(work, 'dist', 'bundle');
    const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.js'));
    const staticImports: string[] = [];
    for (const f of files) {
      const text = await readFile(path.join(dir, f), 'utf8');
      for (const m of text.matchAll(/^import\b[^;]*?from\s*["'](node:[^"']+)["']/gm)) {
        // The banner's createRequire (node:module) is the one left: it makes `require`.
        if (m[1] !== 'node:module') staticImports.push(`${f}: ${m[1]}`);
      }
    }
    expect(files.length).toBeGreaterThan(1);
    expect(staticImports).toEqual([]);
  });

  it('an offline diagnosis does not load node:child_process (commander imports it; loaded on first use)', async () => {
    const printLoaded =
      'data:text/javascript,process.on("exit",()=>process.stderr.write("\\nLOADED "+JSON.stringify(process.moduleLoadList)))';
    const argv = ['diagnose', '--bundle', path.join(bundlesDir, 'stale-endpoints'), '--format', 'json'];
    const run = await node(['--import', printLoaded, path.join(work, 'dist', 'bundle', 'main.js'), ...argv]);
    expect(run.code).toBe(0);
    const loaded = JSON.parse(run.stderr.split('LOADED ')[1] ?? '[]') as string[];
    expect(loaded).toContain('NativeModule fs/promises');
    expect(loaded).not.toContain('NativeModule child_process');
    expect(run.stdout).toBe((await viaModules(...argv)).stdout);
  });

  it('bad input is one line naming it, exit status 2', async () => {
    const bad = await viaBin('diagnose', '--bundle', '/no/such');
    expect(bad).toEqual({
      code: 2,
      stdout: '',
      stderr: 'kproxy: /no/such: no such bundle directory or file\n',
    });
  });

  it('bin/kproxy.js runs the bundle when present, else dist/cli/main.js', async () => {
    const argv = ['diagnose', '--bundle', path.join(bundlesDir, 'stale-endpoints'), '--format', 'json'];
    const expected = await viaModules(...argv);
    expect(expected.code).toBe(0);
    const dist = path.join(work, 'dist');
    // Without tsc's CLI modules, only the bundle can answer.
    await rename(path.join(dist, 'cli'), path.join(dist, 'cli-away'));
    try {
      expect(await viaBin(...argv)).toEqual(expected);
    } finally {
      await rename(path.join(dist, 'cli-away'), path.join(dist, 'cli'));
    }
    // Without the bundle, tsc's output.
    await rename(path.join(dist, 'bundle'), path.join(dist, 'bundle-away'));
    try {
      expect(await viaBin(...argv)).toEqual(expected);
    } finally {
      await rename(path.join(dist, 'bundle-away'), path.join(dist, 'bundle'));
    }
  });

  it('bin/kproxy.js does not run a bundle older than tsc output (tsc run alone after a build)', async () => {
    const argv = ['diagnose', '--bundle', path.join(bundlesDir, 'stale-endpoints'), '--format', 'json'];
    const expected = await viaModules(...argv);
    const main = path.join(work, 'dist', 'bundle', 'main.js');
    const original = await readFile(main);
    // A stale bundle that would say so if it ran, older than the modules.
    await writeFile(main, 'process.stderr.write("stale bundle ran\\n"); process.exit(99);\n');
    const old = new Date(Date.now() - 3600_000);
    await utimes(main, old, old);
    try {
      expect(await viaBin(...argv)).toEqual(expected);
    } finally {
      await writeFile(main, original);
    }
  });

  it('the live path (the client chunk): serve-bundle and diagnose --context, bundled as tsc-built', async () => {
    const kubeconfig = path.join(work, 'kubeconfig');
    const server = spawn(
      process.execPath,
      [
        path.join(work, 'dist', 'bundle', 'main.js'),
        'serve-bundle',
        path.join(bundlesDir, 'stale-endpoints'),
        '--kubeconfig-out',
        kubeconfig,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        server.stdout.on('data', (chunk: Buffer) => String(chunk).includes('kubeconfig:') && resolve());
        server.on('exit', (code) => reject(new Error(`serve-bundle exited with ${code}`)));
      });
      const argv = [
        'diagnose',
        '--kubeconfig',
        kubeconfig,
        '--context',
        'bundle',
        '--service',
        'app/web-api',
      ];
      const [bundled, modules] = await Promise.all([
        viaBundle(...argv, '--format', 'json'),
        viaModules(...argv, '--format', 'json'),
      ]);
      expect([bundled.code, bundled.stderr]).toEqual([0, '']);
      expect([modules.code, modules.stderr]).toEqual([0, '']);
      // Live reports carry the clock (events' ages), so the conclusions are compared.
      const conclusions = (stdout: string) => {
        const r = JSON.parse(stdout) as { rootCause: unknown; findings: { check: string; status: string }[] };
        return { rootCause: r.rootCause, findings: r.findings.map((f) => [f.check, f.status]) };
      };
      expect(conclusions(bundled.stdout)).toEqual(conclusions(modules.stdout));
      expect(conclusions(bundled.stdout).rootCause).toMatchObject({ category: 'stale_endpoints' });
    } finally {
      server.kill('SIGTERM');
    }
  });
});
