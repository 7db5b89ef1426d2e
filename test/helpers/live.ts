/** A bundle served by the test API server, with a kubeconfig for the real client. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LiveSource, type LiveSourceOptions } from '../../src/cluster/live/live-source.js';
import { BundleApiServer, type BundleApiServerOptions } from '../../src/testserver/bundle-api-server.js';

export interface Served {
  readonly server: BundleApiServer;
  readonly kubeconfig: string;
  source(options?: Partial<LiveSourceOptions>): LiveSource;
  stop(): Promise<void>;
}

export async function serve(bundleDir: string, options: BundleApiServerOptions = {}): Promise<Served> {
  const server = new BundleApiServer(bundleDir, options);
  await server.start();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kproxy-live-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  await writeFile(kubeconfig, server.kubeconfig());
  return {
    server,
    kubeconfig,
    source: (o = {}) =>
      new LiveSource({
        kubeconfigPath: kubeconfig,
        context: 'bundle',
        clusterName: 'prod-east',
        nodeCaptures: 'debug-pod',
        http: { timeoutMs: 5000 },
        ...o,
      }),
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The `clusters:` section of a kproxy configuration whose one cluster is the served bundle. */
export function servedClusterYaml(
  served: Served,
  channels: readonly string[],
  nodeCaptures = 'exec',
): string[] {
  return [
    'clusters:',
    '  - name: prod-east',
    `    kubeconfig: { path: ${served.kubeconfig}, context: bundle }`,
    `    channels: [${channels.join(', ')}]`,
    `    nodeCaptures: ${nodeCaptures}`,
  ];
}
