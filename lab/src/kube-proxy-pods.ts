// The kubelet's part for kube-proxy pods on the lab's nodes (kube-system, k8s-app=
// kube-proxy, the DaemonSet of lab/manifests/kube-proxy.yaml): every second it lists them
// and, per pod bound to one of the lab's nodes, starts its container
// (kube-proxy-container.ts), stops it when the pod is deleted (SIGTERM, the pod's grace
// period, SIGKILL) and then removes the pod object as the kubelet does (delete with grace
// 0, preconditioned on the UID). kwok's stages leave these pods alone (node-kwok.ts).
import { ApiError, type LabApi } from './api.js';
import { KubeProxyContainer, type KubeProxyPod } from './kube-proxy-container.js';
import type { NodeHost } from './node-netns.js';

export interface KubeProxyPods {
  stop(): Promise<void>;
}

const listPath = '/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-proxy';

export function startKubeProxyPods(api: LabApi, nodes: NodeHost[], binDir: string): KubeProxyPods {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const running = new Map<string, KubeProxyContainer>();
  const deleting = new Set<string>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let tick: Promise<void> = Promise.resolve();

  const remove = async (c: KubeProxyContainer, grace: number, deleteObject: boolean) => {
    const { uid, name, namespace } = c.pod.metadata;
    if (deleting.has(uid)) return;
    deleting.add(uid);
    try {
      await c.terminate(grace);
      if (deleteObject)
        await api
          .send('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            gracePeriodSeconds: 0,
            preconditions: { uid },
          })
          .catch((err) => {
            if (!(err instanceof ApiError && (err.status === 404 || err.status === 409))) throw err;
          });
    } finally {
      running.delete(uid);
      deleting.delete(uid);
    }
  };

  const reconcile = async () => {
    const list = await api.get<{ items: KubeProxyPod[] }>(listPath);
    const seen = new Set<string>();
    for (const pod of list.items) {
      const node = byName.get(pod.spec.nodeName ?? '');
      if (!node) continue;
      const uid = pod.metadata.uid;
      seen.add(uid);
      const c = running.get(uid);
      if (pod.metadata.deletionTimestamp) {
        const grace = pod.metadata.deletionGracePeriodSeconds ?? 30;
        if (c) void remove(c, grace, true).catch(report);
        else if (!deleting.has(uid))
          void remove(new KubeProxyContainer(api, node, pod, binDir), 0, true).catch(report);
      } else if (!c) {
        const created = new KubeProxyContainer(api, node, pod, binDir);
        running.set(uid, created);
        // Not started (e.g. the ConfigMap unreadable): forget it, the next tick tries again.
        await created.start().catch((err) => {
          running.delete(uid);
          report(err);
        });
      }
    }
    // Gone from the API (force-deleted): stop the process.
    for (const [uid, c] of running) if (!seen.has(uid)) void remove(c, 0, false).catch(report);
  };

  const loop = () => {
    if (stopped) return;
    tick = reconcile()
      .catch(report)
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, 1000);
      });
  };
  loop();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await tick;
      await Promise.all([...running.values()].map((c) => c.terminate(5)));
    },
  };
}

function report(err: unknown): void {
  // The API may be going away while the lab stops; anything else is worth a line.
  process.stderr.write(`lab: kube-proxy pods: ${err instanceof Error ? err.message : String(err)}\n`);
}
