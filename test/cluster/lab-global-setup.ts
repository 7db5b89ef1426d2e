/**
 * Builds the lab's binaries if needed (`npm run test:cluster` has already run lab/build.sh,
 * outside any vitest bound: a cold build takes tens of minutes; here it is then a no-op)
 * and starts one lab for the cluster suite; the tests get it through `inject('lab')`.
 */
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildLab, defaultBinDir } from '../../lab/src/build.js';
import { type LabNode, startLab } from '../../lab/src/lab.js';
import type { NodeProxyOptions } from '../../lab/src/node-proxy.js';

export interface LabInfo {
  adminKubeconfig: string;
  server: string;
  caCert: string;
  /** The admin's client certificate (system:masters), for reads kubectl cannot show (a 503's body). */
  adminCert: { cert: string; key: string };
  nodeNames: string[];
  /** Each node's address, network namespace, /run and kube-proxy logs (to break it). */
  nodes: LabNode[];
  dir: string;
  nodeProxy: Omit<NodeProxyOptions, 'nodeName'>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    lab: LabInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = path.resolve(import.meta.dirname, '../../lab');
  const binDir = defaultBinDir(root);
  await buildLab(root, binDir);
  const lab = await startLab({ binDir, nodes: 2 });
  project.provide('lab', {
    adminKubeconfig: lab.adminKubeconfig,
    server: lab.server,
    caCert: lab.pki.caCert,
    adminCert: lab.pki.admin,
    nodeNames: lab.nodeNames,
    nodes: lab.nodes,
    dir: lab.dir,
    nodeProxy: lab.nodeProxyOptions,
  });
  return () => lab.stop();
}
