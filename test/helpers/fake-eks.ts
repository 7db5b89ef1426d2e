/**
 * A fake EKS API on loopback: DescribeCluster points at the test API server, and
 * DescribeAddon answers from the served bundle's `eks/addons/*.json`.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export class FakeEks {
  readonly requests: {
    method: string;
    path: string;
    authorization: string | undefined;
    body?: Record<string, unknown>;
  }[] = [];
  /** kube-proxy versions EKS offers per Kubernetes version; the first is the default. */
  readonly addonVersions = new Map<string, string[]>([
    ['1.30', ['v1.30.6-eksbuild.3', 'v1.30.3-eksbuild.9', 'v1.30.0-eksbuild.3']],
  ]);
  /** What DescribeUpdate answers, in turn (the last one repeats). */
  updateStatuses: { status: string; errors?: { errorCode: string; errorMessage: string }[] }[] = [
    { status: 'Successful' },
  ];
  /** Answer UpdateAddon with this error (e.g. AccessDeniedException) when set. */
  updateError: { status: number; type: string; message: string } | undefined;
  private server: Server | undefined;

  constructor(
    private readonly bundleDir: string,
    private readonly apiServerUrl: string,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo | undefined)?.port}`;
  }

  /** The UpdateAddon calls received, with their bodies. */
  get addonUpdates(): { path: string; body: Record<string, unknown> }[] {
    return this.requests
      .filter((r) => r.method === 'POST' && /\/addons\/[^/]+\/update$/.test(r.path))
      .map((r) => ({ path: r.path, body: r.body ?? {} }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const url = req.url ?? '';
    this.requests.push({
      method: req.method ?? 'GET',
      path: url,
      authorization: req.headers.authorization,
      ...(raw ? { body: JSON.parse(raw) as Record<string, unknown> } : {}),
    });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const { pathname, searchParams } = new URL(url, 'http://fake');
    if (pathname === '/addons/supported-versions') {
      const k8s = searchParams.get('kubernetesVersion') ?? '';
      const versions = this.addonVersions.get(k8s) ?? [];
      send(200, {
        addons: [
          {
            addonName: searchParams.get('addonName'),
            type: 'networking',
            addonVersions: versions.map((v, i) => ({
              addonVersion: v,
              architecture: ['amd64', 'arm64'],
              compatibilities: [{ clusterVersion: k8s, platformVersions: ['*'], defaultVersion: i === 0 }],
            })),
          },
        ],
      });
      return;
    }
    const update = /^\/clusters\/([^/]+)\/addons\/([^/]+)\/update$/.exec(pathname);
    if (update && req.method === 'POST') {
      if (this.updateError) {
        send(
          this.updateError.status,
          { message: this.updateError.message },
          { 'x-amzn-errortype': this.updateError.type },
        );
        return;
      }
      send(200, {
        update: {
          id: `upd-${this.addonUpdates.length}`,
          status: 'InProgress',
          type: 'AddonUpdate',
          errors: [],
        },
      });
      return;
    }
    const describeUpdate = /^\/clusters\/([^/]+)\/updates\/([^/]+)$/.exec(pathname);
    if (describeUpdate) {
      const next = this.updateStatuses.length > 1 ? this.updateStatuses.shift() : this.updateStatuses[0];
      send(200, {
        update: {
          id: describeUpdate[2],
          type: 'AddonUpdate',
          status: next?.status,
          errors: next?.errors ?? [],
        },
      });
      return;
    }
    const cluster = /^\/clusters\/([^/?]+)$/.exec(url);
    if (cluster) {
      // The network and logging settings of the served bundle's cluster (the EKS path checks read them).
      const own = await readFile(path.join(this.bundleDir, 'eks', 'cluster.json'), 'utf8').then(
        (text) => (JSON.parse(text) as { cluster: Record<string, unknown> }).cluster,
        () => ({}) as Record<string, unknown>,
      );
      send(200, {
        cluster: {
          ...(own.resourcesVpcConfig ? { resourcesVpcConfig: own.resourcesVpcConfig } : {}),
          ...(own.logging ? { logging: own.logging } : {}),
          name: cluster[1],
          arn: `arn:aws:eks:us-west-2:123456789012:cluster/${cluster[1]}`,
          version: '1.30',
          endpoint: this.apiServerUrl,
          certificateAuthority: {
            data: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString(
              'base64',
            ),
          },
          status: 'ACTIVE',
          platformVersion: 'eks.12',
        },
      });
      return;
    }
    const addon = /^\/clusters\/[^/]+\/addons\/([^/?]+)$/.exec(url);
    if (addon) {
      void readFile(path.join(this.bundleDir, 'eks', 'addons', `${addon[1]}.json`), 'utf8').then(
        (text) => send(200, wireFormat(JSON.parse(text) as { addon: Record<string, unknown> })),
        () =>
          send(
            404,
            { message: `No addon: ${addon[1]} found in cluster` },
            { 'x-amzn-errortype': 'ResourceNotFoundException' },
          ),
      );
      return;
    }
    send(404, { message: 'not found' });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** The AWS CLI prints timestamps as ISO strings; the EKS REST API sends epoch seconds. */
function wireFormat(doc: { addon: Record<string, unknown> }): unknown {
  const addon = { ...doc.addon };
  for (const key of ['createdAt', 'modifiedAt']) {
    if (typeof addon[key] === 'string') addon[key] = Date.parse(addon[key] as string) / 1000;
  }
  return { addon };
}
