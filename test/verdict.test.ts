/**
 * Issue 12 item 8: inconclusive is an answer. Missing or unreadable data that decides the
 * Service path makes the diagnosis INCONCLUSIVE (never `none`, never a fault the data does
 * not show), says what to collect, offers no write action, and every renderer shows it.
 * A node that does not exist, and a server that is not a Kubernetes API, are errors.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Diagnosis } from '../src/engine/diagnosis.js';
import { renderBlocks } from '../src/report/blocks.js';
import { renderText } from '../src/report/text.js';
import { renderSopYaml } from '../src/report/yaml.js';
import { bundlesDir } from './helpers/bundles.js';
import { cli } from './helpers/cli.js';
import { BundleCopies, diagnoseDir, n2 } from './helpers/edit-bundle.js';
import { serve } from './helpers/live.js';

const copies = new BundleCopies();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await copies.cleanup();
  for (const c of cleanups.splice(0)) await c();
});

const captureFile = `nodes/${n2}/iptables-save.txt`;

function expectInconclusive(d: Diagnosis, missingCheck: string, text: RegExp) {
  expect(d.verdict).toBe('inconclusive');
  expect(d.rootCause.category).toBe('inconclusive');
  expect(d.severity).toBe('UNKNOWN');
  expect(d.ranking).toEqual([]);
  expect(d.mitigation.actions).toEqual([]);
  const m = d.missing.find((x) => x.check === missingCheck);
  expect(m?.what).toMatch(text);
  expect(m?.how.length).toBeGreaterThan(10);
}

describe('inconclusive diagnoses', () => {
  it('no captures for the node', async () => {
    const dir = await copies.edit('healthy', (b) => rm(b.file(`nodes/${n2}`), { recursive: true }));
    expectInconclusive(await diagnoseDir(dir), 'dataplane.rules', /no node captures .* for ip-10-0-2-45/);
  });

  it('an empty iptables-save.txt is unreadable, not "no rules"', async () => {
    const dir = await copies.edit('healthy', (b) => b.write(captureFile, ''));
    expectInconclusive(await diagnoseDir(dir), 'dataplane.rules', /iptables-save\.txt is empty/);
  });

  it.each([
    ['command not found', 'sh: 1: iptables-save: command not found\n'],
    [
      'Permission denied',
      'iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n',
    ],
  ])('an iptables-save.txt holding "%s" is unreadable', async (_name, content) => {
    const dir = await copies.edit('stale-endpoints', (b) => b.write(captureFile, content));
    const d = await diagnoseDir(dir);
    // Today's stale_endpoints (or "no rules programmed") would be a fault the data does not show.
    expectInconclusive(
      d,
      'dataplane.rules',
      /unreadable: nodes\/ip-10-0-2-45\.ec2\.internal\/iptables-save\.txt holds/,
    );
  });

  it('a missing services.json', async () => {
    const dir = await copies.edit('healthy', (b) => rm(b.file('namespaces/app/services.json')));
    expectInconclusive(
      await diagnoseDir(dir),
      'service.shape',
      /not collected: namespaces\/app\/services\.json/,
    );
  });

  it('a decisive fault stays decisive when other data is missing', async () => {
    const dir = await copies.edit('kube-proxy-crashloop', (b) =>
      rm(b.file(`nodes/${n2}`), { recursive: true }),
    );
    const d = await diagnoseDir(dir);
    expect(d.verdict).toBe('decisive');
    expect(d.rootCause.category).toBe('pod_crash');
  });

  it('every renderer shows the verdict and what to collect', async () => {
    const dir = await copies.edit('healthy', (b) => b.write(captureFile, ''));
    const d = await diagnoseDir(dir);
    const text = renderText(d);
    expect(text).toMatch(
      /^ROOT CAUSE {2}INCONCLUSIVE — the data that decides is missing {3}severity UNKNOWN {3}verdict inconclusive$/m,
    );
    expect(text).toContain('TO DECIDE, COLLECT');
    expect(text).toContain('--node-captures debug-pod');
    const yaml = parseYaml(renderSopYaml(d)) as { verdict: string; missing_data: { check: string }[] };
    expect(yaml.verdict).toBe('inconclusive');
    expect(yaml.missing_data[0]?.check).toBe('dataplane.rules');
    const blocks = JSON.stringify(renderBlocks(d));
    expect(blocks).toContain('❔ INCONCLUSIVE');
    expect(blocks).toContain('To decide, collect');
    const decisive = await diagnoseDir(path.join(bundlesDir, 'healthy'));
    expect(decisive.verdict).toBe('decisive');
    expect(renderText(decisive)).toMatch(/verdict decisive/);
    expect(JSON.stringify(renderBlocks(decisive))).toContain('verdict *decisive*');
  });
});

describe('requests the cluster cannot answer', () => {
  it('a --node that does not exist is exit 2, naming the nodes (bundle)', async () => {
    const r = await cli('diagnose', '--bundle', path.join(bundlesDir, 'healthy'), '--node', 'ip-1-2-3-4');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'kproxy: node ip-1-2-3-4 not found; nodes are ip-10-0-1-23.ec2.internal, ip-10-0-2-45.ec2.internal, ip-10-0-3-67.ec2.internal\n',
    );
  });

  it('a --node that does not exist is exit 2 on a live cluster too', async () => {
    const s = await serve(path.join(bundlesDir, 'healthy'));
    cleanups.push(s.stop);
    const r = await cli(
      'diagnose',
      '--kubeconfig',
      s.kubeconfig,
      '--context',
      'bundle',
      '--service',
      'app/web-api',
      '--node',
      'ip-1-2-3-4',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^kproxy: node ip-1-2-3-4 not found; nodes are ip-10-0-1-23\.ec2\.internal, /);
  });

  it.each([
    ['answers 404 everywhere', 404, 'text/plain', '404 page not found\n'],
    ['answers an HTML page', 200, 'text/html', '<html><body>Welcome to nginx!</body></html>'],
  ])('a server that %s is not a Kubernetes API: exit 2', async (_name, status, type, body) => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const address = server.address() as { port: number };
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-notk8s-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{ name: web, cluster: { server: "http://127.0.0.1:${address.port}", insecure-skip-tls-verify: true } }]`,
        'users: [{ name: u, user: { token: t } }]',
        'contexts: [{ name: web, context: { cluster: web, user: u } }]',
        'current-context: web',
        '',
      ].join('\n'),
    );
    const r = await cli(
      'diagnose',
      '--kubeconfig',
      kubeconfig,
      '--context',
      'web',
      '--service',
      'app/web-api',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^kproxy: context web is not a Kubernetes API server: \/version answered /);
    expect(r.stderr.split('\n')).toHaveLength(2);
  });
});
