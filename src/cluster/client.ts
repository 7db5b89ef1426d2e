/**
 * The failing client named by `--from NS/NAME` (CLI) or `from ns/name` (Slack): a Pod, or
 * a Deployment, StatefulSet or DaemonSet whose pods are the clients. Read from a bundle's
 * files (the live source writes the same files), so both paths resolve it alike.
 */
import type { z } from 'zod';
import type { BundleFiles } from './bundle/files.js';
import { type Collected, collected, missing } from './collected.js';
import {
  type NetworkPolicy,
  namespaceSchema,
  networkPolicySchema,
  type Pod,
  podSchema,
  type Workload,
  workloadSchema,
} from './kube-types.js';
import { matchesLabelSelector } from './selectors.js';

export interface ClientRef {
  readonly namespace: string;
  readonly name: string;
}

export const clientKinds = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet'] as const;
export type ClientKind = (typeof clientKinds)[number];

/** Workload kinds by the bundle file (and API resource) that lists them. */
export const workloadResources = [
  ['deployments', 'Deployment'],
  ['statefulsets', 'StatefulSet'],
  ['daemonsets', 'DaemonSet'],
] as const;

export interface ClientView {
  readonly ref: ClientRef;
  readonly kind: ClientKind;
  /** The client pods (one for a Pod; the workload's pods otherwise). */
  readonly pods: readonly Pod[];
  /** Labels of the client's namespace and of the Service's (for namespaceSelector peers). */
  readonly namespaceLabels: ReadonlyMap<string, Collected<Readonly<Record<string, string>>>>;
  /** NetworkPolicies of the client's namespace (its egress). */
  readonly clientPolicies: Collected<readonly NetworkPolicy[]>;
}

export function clientText(ref: ClientRef): string {
  return `${ref.namespace}/${ref.name}`;
}

/** Pods a workload selects; a workload without a selector selects none. */
export function workloadPods(workload: Workload, pods: readonly Pod[]): Pod[] {
  const selector = workload.spec?.selector;
  if (!selector) return [];
  return pods.filter((p) => matchesLabelSelector(p.metadata.labels, selector));
}

export async function readClient(
  dir: BundleFiles,
  ref: ClientRef,
  targetNamespace: string | undefined,
): Promise<Collected<ClientView>> {
  const ns = ref.namespace;
  const pods = await dir.readList(`namespaces/${ns}/pods.json`, 'Pod', podSchema);
  if (pods.state === 'missing') return missing(`client ${clientText(ref)}: pods unknown (${pods.reason})`);
  const resolved = await resolveKind(dir, ref, pods.value);
  if (!resolved) {
    return missing(
      `client ${clientText(ref)} not found: no Pod, Deployment, StatefulSet or DaemonSet of that name in namespace ${ns}`,
    );
  }
  const namespaces = await dir.readList('namespaces.json', 'Namespace', namespaceSchema);
  const namespaceLabels = new Map<string, Collected<Record<string, string>>>();
  for (const name of new Set([ns, targetNamespace].filter((n): n is string => !!n))) {
    if (namespaces.state === 'missing') namespaceLabels.set(name, namespaces);
    else {
      const found = namespaces.value.find((n) => n.metadata.name === name);
      namespaceLabels.set(
        name,
        found
          ? collected({ ...(found.metadata.labels ?? {}) })
          : missing(`namespace ${name} not in namespaces.json`),
      );
    }
  }
  const clientPolicies = await dir.readList(
    `namespaces/${ns}/networkpolicies.json`,
    'NetworkPolicy',
    networkPolicySchema,
  );
  return collected({ ref, ...resolved, namespaceLabels, clientPolicies });
}

async function resolveKind(
  dir: BundleFiles,
  ref: ClientRef,
  pods: readonly Pod[],
): Promise<{ kind: ClientKind; pods: Pod[] } | undefined> {
  const pod = pods.find((p) => p.metadata.name === ref.name);
  if (pod) return { kind: 'Pod', pods: [pod] };
  for (const [resource, kind] of workloadResources) {
    const list: Collected<z.infer<typeof workloadSchema>[]> = await dir.readList(
      `namespaces/${ref.namespace}/${resource}.json`,
      kind,
      workloadSchema,
    );
    const workload =
      list.state === 'collected' ? list.value.find((w) => w.metadata.name === ref.name) : undefined;
    if (workload) return { kind, pods: workloadPods(workload, pods) };
  }
  return undefined;
}
