// A small client for the lab's own calls to its apiserver (the kubelet part of
// kube-proxy pods polls and patches every second: spawning kubectl for that would cost a
// process a call on a loaded machine). TLS with the lab's CA and a client certificate.
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { ClientCert } from './pki.js';

export interface LabApi {
  get<T>(path: string): Promise<T>;
  /** JSON body, method POST/PUT/PATCH/DELETE; PATCH is a JSON merge patch. */
  send<T>(method: string, path: string, body?: unknown): Promise<T>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function labApi(server: string, caCert: string, client: ClientCert): Promise<LabApi> {
  const [ca, cert, key] = await Promise.all([readFile(caCert), readFile(client.cert), readFile(client.key)]);
  const call = <T>(method: string, path: string, body?: unknown) =>
    new Promise<T>((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        new URL(path, server),
        {
          method,
          ca,
          cert,
          key,
          timeout: 30_000,
          headers: {
            accept: 'application/json',
            ...(data
              ? {
                  'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
                  'content-length': Buffer.byteLength(data),
                }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(JSON.parse(text) as T);
            else reject(new ApiError(status, `${method} ${path}: ${status} ${text.slice(0, 300)}`));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end(data);
    });
  return { get: (path) => call('GET', path), send: call };
}
