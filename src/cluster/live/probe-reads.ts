/**
 * Where the live source runs the client's-eye probe and what it tries: from each affected
 * node (the target node, else the client's), as the client where it may, the paths of the
 * target Service (probePlan), read from the view of what was already collected.
 */
import { buildView } from '../bundle/bundle-source.js';
import type { BundleManifest } from '../bundle/manifest.js';
import type { MemoryBundle } from '../bundle/memory.js';
import { clientText } from '../client.js';
import { probePlan } from '../probe/script.js';
import type { Target } from '../view.js';
import type { KubeHttp } from './kube-http.js';
import { clientLabels, type ProbeOptions, type ProbeSite, runProbe } from './probe-pod.js';

export async function probeInto(
  http: KubeHttp,
  bundle: MemoryBundle,
  manifest: BundleManifest,
  target: Target,
  nodes: readonly string[],
  options: ProbeOptions,
  progress: (step: string) => void = () => {},
): Promise<void> {
  const view = await buildView(bundle, manifest, target, 'probe plan');
  const service = view.service.state === 'collected' ? view.service.value : undefined;
  const slices = view.endpointSlices.state === 'collected' ? view.endpointSlices.value : [];
  const nodeList = view.nodes.state === 'collected' ? view.nodes.value : [];
  const client = view.client?.state === 'collected' ? view.client.value : undefined;
  for (const node of nodes) {
    const args = probePlan(
      service,
      slices,
      nodeList.find((n) => n.metadata.name === node),
      options.maxEndpoints,
    );
    // The client's pod on this node speaks for the client (else any of its pods).
    const pod = client?.pods.find((p) => p.spec.nodeName === node) ?? client?.pods[0];
    const labels = pod ? clientLabels(pod) : undefined;
    const site: ProbeSite =
      client && labels && 'labels' in labels
        ? {
            node,
            namespace: client.ref.namespace,
            as: { ref: clientText(client.ref), labels: labels.labels },
          }
        : { node, namespace: client?.ref.namespace ?? options.namespace };
    const as = site.as
      ? ` as ${site.as.ref}`
      : labels && 'refused' in labels
        ? ` without the client's labels: ${labels.refused}`
        : '';
    progress(`Client's-eye probe from ${node}${as}`);
    await runProbe(http, bundle, site, args, options);
  }
}
