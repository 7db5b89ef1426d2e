// Waits for the lab's kube-system workloads: a Ready kube-proxy pod on every node (its
// process started: lab/src/kube-proxy-pods.ts) and CoreDNS's endpoints in kube-dns's
// EndpointSlice (kwok's pods, published by the real EndpointSlice controller).
import type { LabApi } from './api.js';
import { waitFor } from './processes.js';

interface PodList {
  items: {
    spec: { nodeName?: string };
    status?: { conditions?: { type: string; status: string }[] };
  }[];
}
interface SliceList {
  items: { endpoints?: { conditions?: { ready?: boolean } }[] }[];
}

const isReady = (p: PodList['items'][number]) =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export async function waitSystemPods(api: LabApi, nodes: string[]): Promise<void> {
  await waitFor(
    `a Ready kube-proxy pod on each of ${nodes.join(', ')}`,
    async () => {
      const pods = await api.get<PodList>(
        '/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-proxy',
      );
      return nodes.every((n) => pods.items.some((p) => p.spec.nodeName === n && isReady(p)));
    },
    undefined,
  );
  await waitFor(
    'ready CoreDNS endpoints in the EndpointSlice of kube-system/kube-dns',
    async () => {
      const slices = await api.get<SliceList>(
        '/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dkube-dns',
      );
      const ready = slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready);
      return ready.length >= 2;
    },
    undefined,
  );
}
