/**
 * The client's-eye probe on the live path (`probe: debug-pod` for the cluster): a
 * short-lived, unprivileged pod on the pod network of the node, hardened as the capture
 * pod is (image pinned by digest, kproxy's labels, a deadline, no service-account token,
 * deleted afterwards even on failure, leftovers swept by label), that runs the probe
 * script and returns the matrix. Its stdout goes to `probe/<node>/matrix.txt`; when it
 * could not run, that file is "not collected" with the reason, so the check says why.
 *
 * With a client (`--from`), the pod runs in the client's namespace carrying the client
 * pod's labels, so the NetworkPolicies that apply to the client apply to it, when that is
 * safe and permitted:
 * - a controller must not adopt it: ReplicaSet and DaemonSet controllers claim orphan pods
 *   that match their selector (kubernetes pkg/controller/controller_ref_manager.go
 *   `ClaimPods`). A Deployment's ReplicaSet selects `pod-template-hash`, which the probe
 *   drops (pkg/controller/deployment/sync.go); a StatefulSet claims only pods named after it
 *   (pkg/controller/statefulset/stateful_set_utils.go `isMemberOf`). Any other owner (a
 *   DaemonSet, a bare ReplicaSet) means no client labels.
 * - a Service must not route to it: a readiness probe that never passes keeps it out of
 *   every EndpointSlice's ready endpoints.
 * - a refused create there (RBAC, Pod Security admission, quota) falls back to the probe
 *   namespace with kproxy's labels only, and the matrix says so (`as=-`).
 */
import type { MemoryBundle } from '../bundle/memory.js';
import type { Pod } from '../kube-types.js';
import { probeCommand } from '../probe/script.js';
import type { Fetched, KubeHttp } from './kube-http.js';
import { deletePod, netshootImage, sweepDebugPods, waitRunning } from './node-captures.js';

export const probeModes = ['off', 'debug-pod'] as const;
export type ProbeMode = (typeof probeModes)[number];

export interface ProbeOptions {
  readonly mode: ProbeMode;
  /** Where the probe runs without a client, or when the client's namespace refuses it. @defaultValue kube-system */
  readonly namespace: string;
  /** @defaultValue netshoot v0.13 by digest (dig, curl) */
  readonly image: string;
  /** Most endpoints tried directly. @defaultValue 5 */
  readonly maxEndpoints: number;
  /** @defaultValue 60_000 */
  readonly startTimeoutMs: number;
}

export const defaultProbe: ProbeOptions = {
  mode: 'off',
  namespace: 'kube-system',
  image: `docker.io/${netshootImage}`,
  maxEndpoints: 5,
  startTimeoutMs: 60_000,
};

export const probePodLabels = {
  'app.kubernetes.io/managed-by': 'kproxy',
  'kproxy.io/role': 'probe',
} as const;

/** Labels controllers stamp on their pods; a copy would make the probe one of theirs. */
const controllerLabels = [
  'pod-template-hash',
  'controller-revision-hash',
  'pod-template-generation',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
];

/** The client pod's labels the probe may carry, or why it may not carry them. */
export function clientLabels(pod: Pod): { labels: Record<string, string> } | { refused: string } {
  const owner = pod.metadata.ownerReferences?.[0];
  const labels = { ...(pod.metadata.labels ?? {}) };
  const deploymentPod = owner?.kind === 'ReplicaSet' && 'pod-template-hash' in labels;
  if (owner && !deploymentPod && owner.kind !== 'StatefulSet')
    return { refused: `its controller (${owner.kind} ${owner.name}) would adopt a pod with its labels` };
  for (const key of controllerLabels) delete labels[key];
  return { labels };
}

export interface ProbeSite {
  readonly node: string;
  readonly namespace: string;
  /** The client (`ns/name`) whose labels the pod carries; undefined: kproxy's labels only. */
  readonly as?: { readonly ref: string; readonly labels: Readonly<Record<string, string>> } | undefined;
}

export function probePodManifest(site: ProbeSite, image: string): Record<string, unknown> {
  const suffix = Math.random().toString(36).slice(2, 7);
  const env = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `kproxy-probe-${suffix}`,
      namespace: site.namespace,
      labels: { ...(site.as?.labels ?? {}), ...probePodLabels, 'kproxy.io/node': site.node.slice(0, 63) },
    },
    spec: {
      nodeName: site.node,
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      activeDeadlineSeconds: 300,
      terminationGracePeriodSeconds: 1,
      tolerations: [{ operator: 'Exists' }],
      // Pod Security "restricted": nothing the probe needs is privileged.
      securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'probe',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', '300'],
          env: [
            env('NODE_NAME', 'spec.nodeName'),
            env('POD_NAMESPACE', 'metadata.namespace'),
            { name: 'KPROXY_AS', value: site.as?.ref ?? '-' },
          ],
          // Never Ready: no Service selecting the client's labels routes to the probe.
          readinessProbe: { exec: { command: ['false'] }, periodSeconds: 60 },
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    },
  };
}

const podsCall = (ns: string, verb: string) => ({ verb, resource: 'pods', namespace: ns });

/**
 * Runs the probe from `site` (falling back to the probe namespace when the client's refuses
 * the pod) and records its stdout, or why there is none, as `probe/<node>/matrix.txt`.
 */
export async function runProbe(
  http: KubeHttp,
  bundle: MemoryBundle,
  site: ProbeSite,
  args: readonly string[],
  options: ProbeOptions,
): Promise<void> {
  const rel = `probe/${site.node}/matrix.txt`;
  let created = await createProbePod(http, site, options);
  if (!created.ok && site.as && site.namespace !== options.namespace) {
    const fallback = { node: site.node, namespace: options.namespace };
    const again = await createProbePod(http, fallback, options);
    created = again.ok ? again : created;
  }
  if (!created.ok) {
    bundle.set(rel, { missing: `probe pod not created: ${created.reason}` });
    return;
  }
  const { ns, name } = created.value;
  try {
    const running = await waitRunning(http, ns, name, options.startTimeoutMs);
    const command = probeCommand(args);
    const out = running.ok
      ? await http.exec(ns, name, 'probe', command, { verb: 'create', resource: 'pods/exec', namespace: ns })
      : running;
    // The reason names the probe, not its whole script.
    bundle.set(
      rel,
      out.ok ? { content: out.value } : { missing: out.reason.replace(command.join(' '), 'kproxy-probe') },
    );
  } finally {
    await deletePod(http, ns, name);
  }
}

async function createProbePod(
  http: KubeHttp,
  site: ProbeSite,
  options: ProbeOptions,
): Promise<Fetched<{ ns: string; name: string }>> {
  await sweepDebugPods(http, site.namespace, probePodLabels);
  const manifest = probePodManifest(site, options.image);
  const name = (manifest.metadata as { name: string }).name;
  const posted = await http.send(
    'POST',
    `/api/v1/namespaces/${site.namespace}/pods`,
    manifest,
    podsCall(site.namespace, 'create'),
  );
  return posted.ok ? { ok: true, value: { ns: site.namespace, name } } : posted;
}
