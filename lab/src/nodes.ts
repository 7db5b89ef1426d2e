// The lab's fake nodes: created for kwok (its annotation selects them), given loopback
// addresses, and waited for until kwok reports them Ready.
import { kubectl } from './kubectl.js';
import { type Component, waitFor } from './processes.js';

/** Fake nodes for kwok (its annotation selects them). */
function nodeManifest(names: string[]): string {
  const items = names.map((name) => ({
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
  }));
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

/**
 * Loopback addresses for the fake nodes: the apiserver's node proxy refuses them
 * (IsProxyableHostname) instead of dialing anything, so no packet leaves the machine.
 * Written to the status subresource (create drops status); kwok keeps addresses it finds.
 */
async function setNodeAddresses(admin: string, names: string[]): Promise<void> {
  for (const [i, name] of names.entries()) {
    const addresses = [
      { type: 'InternalIP', address: `127.0.1.${i + 1}` },
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

async function waitNodesReady(admin: string, names: string[], kwok: Component): Promise<void> {
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
    kwok,
  );
}

export async function createNodes(admin: string, names: string[], kwok: Component): Promise<void> {
  await kubectl(admin, ['apply', '-f', '-'], nodeManifest(names));
  await setNodeAddresses(admin, names);
  await waitNodesReady(admin, names, kwok);
}
