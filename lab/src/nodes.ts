// The lab's nodes: created for kwok, each with its pod range and its network namespace's
// address as InternalIP, and waited for until their kwok reports them Ready.
import { kubectl } from './kubectl.js';
import { type Component, waitFor } from './processes.js';

export interface NodeSpec {
  name: string;
  ip: string;
  podCidr: string;
}

/** Nodes for kwok (the annotation is kwok's mark for nodes it plays). */
function nodeManifest(nodes: NodeSpec[]): string {
  const items = nodes.map(({ name, podCidr }) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
      },
    },
    spec: { podCIDR: podCidr, podCIDRs: [podCidr] },
  }));
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

/**
 * Each node's InternalIP is its network namespace's address (node-netns.ts): the
 * apiserver dials it for logs, exec and the node proxy. Written to the status subresource
 * (create drops status); kwok keeps addresses it finds.
 */
async function setNodeAddresses(admin: string, nodes: NodeSpec[]): Promise<void> {
  for (const { name, ip } of nodes) {
    const addresses = [
      { type: 'InternalIP', address: ip },
      { type: 'Hostname', address: name },
    ];
    await kubectl(admin, [
      'patch',
      'node',
      name,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { addresses } }),
    ]);
  }
}

/** Waits until every node is Ready (its kwok's node-initialize stage), failing early if a kwok exits. */
export async function waitNodes(admin: string, names: string[], kwoks: Component[]): Promise<void> {
  await waitFor(
    `${names.length} kwok node(s) Ready`,
    async () => {
      const out = await kubectl(admin, [
        'get',
        'nodes',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
      ]);
      return names.every((n) => out.includes(`${n}=True`));
    },
    kwoks.find((k) => k.child.exitCode !== null || k.child.signalCode !== null) ?? kwoks[0],
  );
}

/** Creates the nodes with their addresses (before their kwok starts: it keeps them). */
export async function createNodes(admin: string, nodes: NodeSpec[]): Promise<void> {
  await kubectl(admin, ['apply', '-f', '-'], nodeManifest(nodes));
  await setNodeAddresses(admin, nodes);
}
