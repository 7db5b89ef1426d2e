// The kubelet's volume work for the lab's kube-proxy pods: each volume the container
// mounts, made into files in the pod's directory on the node, and the shell lines that
// mount them at the container's paths inside the process's own mount namespace.
// Supported: configMap, projected (serviceAccountToken via TokenRequest bound to the pod,
// configMap, downwardAPI metadata.namespace), hostPath (a path under /run is the node's
// run/; any other is the host's own path, e.g. /lib/modules). The container's /run,
// /var/lib and /usr/local/bin are its own (fresh tmpfs), as an image's are.
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabApi } from './api.js';
import { type NodeHost, quote } from './node-netns.js';

interface KeyToPath {
  key: string;
  path: string;
}
interface Volume {
  name: string;
  configMap?: { name: string; items?: KeyToPath[] };
  hostPath?: { path: string };
  projected?: {
    sources: {
      serviceAccountToken?: { path: string; expirationSeconds?: number; audience?: string };
      configMap?: { name: string; items?: KeyToPath[] };
      downwardAPI?: { items: { path: string; fieldRef?: { fieldPath: string } }[] };
    }[];
  };
}
export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}
export interface PodForVolumes {
  metadata: { name: string; namespace: string; uid: string };
  spec: { serviceAccountName?: string; volumes?: Volume[] };
}

/** Directories the container has of its own (its image's), not the node's. */
export const containerOwnDirs = ['/run', '/var/lib', '/usr/local/bin'];

async function configMapFiles(api: LabApi, ns: string, name: string, items?: KeyToPath[]) {
  const cm = await api.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${ns}/configmaps/${name}`);
  const data = cm.data ?? {};
  return items ? items.map((i) => [i.path, data[i.key] ?? ''] as const) : Object.entries(data);
}

async function tokenFile(api: LabApi, pod: PodForVolumes, expirationSeconds: number, audience?: string) {
  const sa = pod.spec.serviceAccountName ?? 'default';
  const req = await api.send<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${pod.metadata.namespace}/serviceaccounts/${sa}/token`,
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        ...(audience ? { audiences: [audience] } : {}),
        expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
      },
    },
  );
  return req.status.token;
}

/** Writes files atomically (the kubelet's atomic writer swaps a directory; a rename per file is enough here). */
async function writeFiles(dir: string, files: readonly (readonly [string, string])[]) {
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of files) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, content, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }
}

async function projectedFiles(api: LabApi, pod: PodForVolumes, v: NonNullable<Volume['projected']>) {
  const files: (readonly [string, string])[] = [];
  for (const s of v.sources) {
    if (s.serviceAccountToken) {
      const t = s.serviceAccountToken;
      files.push([t.path, await tokenFile(api, pod, t.expirationSeconds ?? 3607, t.audience)]);
    }
    if (s.configMap)
      files.push(...(await configMapFiles(api, pod.metadata.namespace, s.configMap.name, s.configMap.items)));
    for (const item of s.downwardAPI?.items ?? [])
      if (item.fieldRef?.fieldPath === 'metadata.namespace') files.push([item.path, pod.metadata.namespace]);
  }
  return files;
}

/**
 * Makes the volumes the container mounts and returns the shell lines mounting them.
 * Called again to refresh them (tokens expire): same files, same lines.
 */
export async function prepareVolumes(
  api: LabApi,
  node: NodeHost,
  pod: PodForVolumes,
  mounts: VolumeMount[],
  podDir: string,
): Promise<string[]> {
  const lines: string[] = [];
  for (const m of mounts) {
    const v = (pod.spec.volumes ?? []).find((x) => x.name === m.name);
    if (!v) throw new Error(`volume ${m.name} not in the pod`);
    let source: string;
    let isFile = false;
    if (v.hostPath) {
      const p = v.hostPath.path;
      source = p === '/run' || p.startsWith('/run/') ? path.join(node.runDir, p.slice('/run'.length)) : p;
      isFile = (await stat(source).catch(() => undefined))?.isFile() ?? false;
      if (source === m.mountPath) continue;
    } else {
      source = path.join(podDir, 'volumes', m.name);
      if (v.configMap)
        await writeFiles(
          source,
          await configMapFiles(api, pod.metadata.namespace, v.configMap.name, v.configMap.items),
        );
      else if (v.projected) await writeFiles(source, await projectedFiles(api, pod, v.projected));
      else throw new Error(`volume ${m.name}: only configMap, projected and hostPath are supported`);
    }
    const target = quote(m.mountPath);
    lines.push(
      isFile ? `mkdir -p "$(dirname ${target})"; touch ${target}` : `mkdir -p ${target}`,
      `mount --bind ${quote(source)} ${target}`,
      ...(m.readOnly ? [`mount -o remount,bind,ro ${target}`] : []),
    );
  }
  return lines;
}
