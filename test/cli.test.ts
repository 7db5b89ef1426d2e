/** The kproxy CLI: output formats, exit codes, one-line errors and never a stack trace. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { serveBundleCommand } from '../src/cli/serve-bundle-command.js';
import { bundlesDir, copyExample } from './helpers/bundles.js';
import { capture, cli } from './helpers/cli.js';
import { serve } from './helpers/live.js';

const root = path.resolve(import.meta.dirname, '..');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const bundle = (name: string) => path.join(bundlesDir, name);

describe('kproxy diagnose', () => {
  it('prints a text report, cause first', async () => {
    const r = await cli('diagnose', '--bundle', bundle('stale-endpoints'));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[3]).toBe(
      'ROOT CAUSE  Stale kube-proxy rules on 1 node (stale_endpoints)   severity HIGH   verdict decisive',
    );
    expect(r.stdout).toContain('--to-destination 10.0.3.41:8080');
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('prints the JSON contract and honours --service/--node overrides', async () => {
    const r = await cli(
      'diagnose',
      '--bundle',
      bundle('stale-endpoints'),
      '--format',
      'json',
      '--node',
      'ip-10-0-1-23.ec2.internal',
    );
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as { rootCause: { category: string }; target: unknown };
    expect(d.rootCause.category).toBe('none');
    expect(d.target).toEqual({
      namespace: 'app',
      service: 'web-api',
      node: 'ip-10-0-1-23.ec2.internal',
      from: null,
    });
  });

  it('--cluster-wide ignores the bundle target', async () => {
    const r = await cli(
      'diagnose',
      '--bundle',
      bundle('kube-proxy-oomkilled'),
      '--cluster-wide',
      '--format',
      'json',
    );
    const d = JSON.parse(r.stdout) as { rootCause: { category: string; nodes: string[] }; target: unknown };
    expect(d.target).toEqual({ namespace: null, service: null, node: null, from: null });
    expect(d.rootCause).toMatchObject({ category: 'pod_crash', nodes: ['ip-10-0-1-23.ec2.internal'] });
  });

  it('prints the SOP YAML and Block Kit formats', async () => {
    const yaml = await cli('diagnose', '--bundle', bundle('iptables-xtables-lock'), '--format', 'yaml');
    expect((parseYaml(yaml.stdout) as { root_cause: string }).root_cause).toMatch(/^iptables_sync — /);
    const blocks = await cli('diagnose', '--bundle', bundle('iptables-xtables-lock'), '--format', 'blocks');
    const parsed = JSON.parse(blocks.stdout) as { text: string; blocks: { type: string }[] };
    expect(parsed.blocks[0]?.type).toBe('header');
    expect(parsed.text).toContain('iptables_sync');
  });

  it.each([
    [['diagnose'], /^kproxy: diagnose needs --bundle/],
    [['diagnose', '--bundle', 'x', '--bogus'], /^kproxy diagnose: unknown option '--bogus'\n$/],
    [['diagnose', '--bundle'], /^kproxy diagnose: option '--bundle <path>' argument missing\n$/],
    [['config', 'check'], /^kproxy config check: missing required argument 'file'\n$/],
    [
      ['diagnose', '--bundle', bundle('healthy'), '--format', 'xml'],
      /^kproxy: --format "xml": expected one of text, json, yaml, blocks/,
    ],
    [
      ['diagnose', '--bundle', bundle('healthy'), '--service', 'web-api'],
      /^kproxy: --service "web-api": must be NAMESPACE\/NAME/,
    ],
    [
      ['diagnose', '--bundle', bundle('healthy'), '--service', 'App/Web_API'],
      /^kproxy: --service "App\/Web_API": namespace and name must be DNS labels/,
    ],
    [
      ['diagnose', '--bundle', bundle('healthy'), '--node', 'bad node'],
      /^kproxy: --node "bad node": must be a node name/,
    ],
    [['diagnose', '--bundle', '/no/such/dir'], /^kproxy: \/no\/such\/dir: no such bundle directory or file/],
    [['frobnicate'], /^kproxy: unknown command 'frobnicate'\n$/],
  ])('exits 2 with a one-line reason for %j', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('names the broken file of a bad bundle', async () => {
    const copy = await copyExample('healthy');
    cleanups.push(copy.cleanup);
    await writeFile(path.join(copy.dir, 'nodes.json'), '{"kind":');
    const r = await cli('diagnose', '--bundle', copy.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^kproxy: nodes\.json: is not valid JSON \(/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('help exits 0', async () => {
    expect((await cli('diagnose', '--help')).stdout).toContain('Usage: kproxy diagnose');
    expect((await cli('help')).code).toBe(0);
    // `config check --help` is help, not a file named "--help".
    const check = await cli('config', 'check', '--help');
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^Usage: kproxy config check \[options\] <file>/);
    expect((await cli('help', 'collect')).stdout).toContain('--out <path>');
  });

  it('as a real process: exit status 0 for a diagnosis, 2 for unreadable input', async () => {
    const exec = promisify(execFile);
    // This Node (not whichever `node` is first on PATH) with tsx's loader: the CLI as a process.
    const tsx = [process.execPath, '--import', 'tsx'] as const;
    const ok = await exec(
      tsx[0],
      [
        ...tsx.slice(1),
        'src/cli/main.ts',
        'diagnose',
        '--bundle',
        bundle('conntrack-exhaustion'),
        '--format',
        'json',
      ],
      { cwd: root },
    );
    expect((JSON.parse(ok.stdout) as { rootCause: { category: string } }).rootCause.category).toBe(
      'conntrack',
    );
    const bad = await exec(tsx[0], [...tsx.slice(1), 'src/cli/main.ts', 'diagnose', '--bundle', '/no/such'], {
      cwd: root,
    }).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toBe('kproxy: /no/such: no such bundle directory or file\n');
  });
});

describe('kproxy diagnose --context, collect and serve-bundle', () => {
  const n2 = 'ip-10-0-2-45.ec2.internal';

  it('diagnoses a live cluster and collects a bundle from it', async () => {
    const s = await serve(bundle('conntrack-exhaustion'));
    cleanups.push(s.stop);
    const live = await cli(
      'diagnose',
      '--kubeconfig',
      s.kubeconfig,
      '--context',
      'bundle',
      '--service',
      'app/web-api',
      '--node',
      n2,
      '--node-captures',
      'debug-pod',
      '--format',
      'json',
    );
    expect(live.code).toBe(0);
    expect((JSON.parse(live.stdout) as { rootCause: { category: string } }).rootCause.category).toBe(
      'conntrack',
    );

    const out = path.join(await mkdtemp(path.join(os.tmpdir(), 'kproxy-cli-')), 'incident.tar.gz');
    cleanups.push(() => rm(path.dirname(out), { recursive: true, force: true }));
    const collected = await cli(
      'collect',
      '--kubeconfig',
      s.kubeconfig,
      '--context',
      'bundle',
      '--service',
      'app/web-api',
      '--node',
      n2,
      '--node-captures',
      'debug-pod',
      '--out',
      out,
    );
    expect(collected.code).toBe(0);
    expect(collected.stdout).toMatch(/^wrote .*incident\.tar\.gz: \d+ files, \d+ KiB, \d+ API requests/);
    expect(collected.stderr).toContain(`[3] Node ${n2}: kube-proxy logs, health, metrics and captures`);
    const offline = await cli('diagnose', '--bundle', out, '--format', 'json');
    expect((JSON.parse(offline.stdout) as { rootCause: { category: string } }).rootCause.category).toBe(
      'conntrack',
    );
  });

  it.each([
    [['collect', '--context', 'x', '--service', 'app/web-api'], /^kproxy: collect needs --out/],
    [
      ['diagnose', '--bundle', 'b', '--context', 'c'],
      /^kproxy: --bundle and --context\/--kubeconfig exclude each other/,
    ],
    [
      ['diagnose', '--kubeconfig', '/no/such/kubeconfig'],
      /^kproxy: cannot load kubeconfig \/no\/such\/kubeconfig/,
    ],
    [
      ['diagnose', '--context', 'c', '--proxy-via', 'kubelet'],
      /^kproxy: --proxy-via "kubelet": expected one of nodes, pods/,
    ],
  ])('refuses %j with exit 2', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('serve-bundle serves a bundle until stopped and writes a kubeconfig for it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-serve-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const kubeconfig = path.join(dir, 'kc');
    const out = capture();
    const stop = new AbortController();
    const running = serveBundleCommand(
      // Relative, as the README's recipe types it.
      path.relative(process.cwd(), bundle('version-skew')),
      { kubeconfigOut: kubeconfig },
      { stdout: out.stream, env: {} },
      stop.signal,
    );
    while (!out.text().includes('kubeconfig:')) await new Promise((r) => setTimeout(r, 20));
    const r = await cli(
      'diagnose',
      '--kubeconfig',
      kubeconfig,
      '--context',
      'bundle',
      '--service',
      'app/web-api',
      '--node',
      n2,
      '--format',
      'json',
    );
    expect((JSON.parse(r.stdout) as { rootCause: { category: string } }).rootCause.category).toBe(
      'version_skew',
    );
    stop.abort();
    expect(await running).toBe(0);
    expect(out.text()).toMatch(/served \d+ requests/);
  });
});
