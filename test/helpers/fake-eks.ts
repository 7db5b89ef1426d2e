/**
 * A fake EKS API on loopback: DescribeCluster points at the test API server, and
 * DescribeAddon answers from the served bundle's `eks/addons/*.json`.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export class FakeEks {
  readonly requests: { method: string; path: string; authorization: string | undefined }[] = [];
  private server: Server | undefined;

  constructor(
    private readonly bundleDir: string,
    private readonly apiServerUrl: string,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const url = req.url ?? '';
      this.requests.push({
        method: req.method ?? 'GET',
        path: url,
        authorization: req.headers.authorization,
      });
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const cluster = /^\/clusters\/([^/?]+)$/.exec(url);
      if (cluster) {
        send(200, {
          cluster: {
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
          () => send(404, { message: `No addon: ${addon[1]} found in cluster` }),
        );
        return;
      }
      send(404, { message: 'not found' });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo | undefined)?.port}`;
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
