/**
 * Runbook D8 2G: changes to the target Service, its EndpointSlices and kube-proxy's
 * ConfigMap/DaemonSet in the EKS control-plane audit log, with who made them (the IAM
 * identity aws-iam-authenticator puts in `user.extra.canonicalArn`), placed relative to
 * kube-proxy's first failure.
 */
import type { AuditEvent } from '../../cluster/eks/ec2-types.js';
import type { KlogLine } from '../../cluster/parse/klog.js';
import { kubeProxyConfigMapNames } from '../../cluster/selectors.js';
import type { ClusterView } from '../../cluster/view.js';
import type { Facts } from './facts.js';
import { lastTermination } from './pods.js';

export interface AuditChange {
  readonly at: Date;
  readonly verb: string;
  readonly kind: string;
  readonly ref: string;
  readonly who: string;
  /** How many identical changes (same object, verb, identity) this one stands for. */
  readonly count: number;
  readonly lastAt: Date;
}

const mutating = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const kinds: Record<string, string> = {
  configmaps: 'ConfigMap',
  daemonsets: 'DaemonSet',
  services: 'Service',
  endpointslices: 'EndpointSlice',
};
/** Changes older than this before the observation are not "around the incident". */
const windowMs = 6 * 3600 * 1000;

export function auditChanges(view: ClusterView): AuditChange[] {
  const audit = view.eks.audit;
  if (!audit || audit.state === 'missing') return [];
  const relevant = relevantObject(view);
  const since = view.observedAt.getTime() - windowMs;
  const groups = new Map<string, AuditChange>();
  for (const e of audit.value) {
    // Each request is logged per stage; a change happened once, when its response completed.
    if (!mutating.has(e.verb) || (e.stage && e.stage !== 'ResponseComplete')) continue;
    if ((e.responseStatus?.code ?? 200) >= 400) continue;
    const kind = kinds[e.objectRef?.resource ?? ''];
    const ref = `${e.objectRef?.namespace ?? ''}/${e.objectRef?.name ?? ''}`;
    if (!kind || !relevant(kind, e.objectRef?.namespace ?? '', e.objectRef?.name ?? '')) continue;
    const at = new Date(e.stageTimestamp ?? e.requestReceivedTimestamp ?? '');
    if (Number.isNaN(at.getTime()) || at.getTime() < since || at > view.observedAt) continue;
    const who = identity(e);
    const key = `${kind} ${ref} ${e.verb} ${who}`;
    const g = groups.get(key);
    if (!g) groups.set(key, { at, verb: e.verb, kind, ref, who, count: 1, lastAt: at });
    else
      groups.set(key, {
        ...g,
        at: at < g.at ? at : g.at,
        lastAt: at > g.lastAt ? at : g.lastAt,
        count: g.count + 1,
      });
  }
  return [...groups.values()].sort((a, b) => a.at.getTime() - b.at.getTime());
}

function relevantObject(view: ClusterView): (kind: string, ns: string, name: string) => boolean {
  const ds = view.kubeProxy.daemonSet.state === 'collected' ? view.kubeProxy.daemonSet.value : undefined;
  const configMaps = new Set(['kube-proxy', 'kube-proxy-config', ...kubeProxyConfigMapNames(ds)]);
  const { namespace, service } = view.target;
  return (kind, ns, name) => {
    if (kind === 'ConfigMap') return ns === 'kube-system' && configMaps.has(name);
    if (kind === 'DaemonSet') return ns === 'kube-system' && name === 'kube-proxy';
    if (!service || ns !== (namespace ?? 'default')) return false;
    // EndpointSlice names are the Service's name plus a generated suffix (endpointslice controller).
    return kind === 'Service' ? name === service : name.startsWith(`${service}-`);
  };
}

/** The IAM role or user behind an EKS request, else the Kubernetes user name. */
function identity(e: AuditEvent): string {
  const extra = e.user?.extra ?? {};
  return extra.canonicalArn?.[0] || extra.arn?.[0] || e.user?.username || 'an unknown user';
}

const pastTense: Record<string, string> = {
  create: 'created',
  update: 'updated',
  patch: 'patched',
  delete: 'deleted',
  deletecollection: 'deleted',
};

/** `ConfigMap kube-system/kube-proxy-config patched by arn:… 4 min before the first kube-proxy failure`. */
export function describeChange(c: AuditChange, firstFailure: Date | undefined): string {
  const times = c.count > 1 ? ` ${c.count} times until ${c.lastAt.toISOString()}` : '';
  return `${c.kind} ${c.ref} ${pastTense[c.verb] ?? c.verb}${times} by ${c.who}${relative(c.at, firstFailure)}`;
}

function relative(at: Date, failure: Date | undefined): string {
  if (!failure) return '';
  const minutes = Math.round((failure.getTime() - at.getTime()) / 60000);
  if (minutes === 0) return ' at the first kube-proxy failure';
  return minutes > 0
    ? ` ${minutes} min before the first kube-proxy failure`
    : ` ${-minutes} min after the first kube-proxy failure`;
}

/** The earliest kube-proxy error (log line, container termination, Warning event) on the nodes in scope. */
export function firstKubeProxyFailure(view: ClusterView, facts: Facts): Date | undefined {
  const since = view.observedAt.getTime() - windowMs;
  const times: number[] = [];
  const scope = new Set(facts.nodesInScope);
  for (const [node, pods] of facts.kubeProxyPodsByNode) {
    if (!scope.has(node)) continue;
    for (const pod of pods) {
      const t = lastTermination(pod)?.finishedAt;
      if (t) times.push(Date.parse(t));
      for (const which of ['previous', 'current'] as const) {
        const log = facts.kubeProxyLog(pod.metadata.name, which);
        if (log.state === 'missing') continue;
        const first = log.value.find(
          (l: KlogLine) => (l.severity === 'E' || l.severity === 'F') && l.time.getTime() >= since,
        );
        if (first) times.push(first.time.getTime());
      }
    }
  }
  const pods = new Set(
    [...facts.kubeProxyPodsByNode]
      .filter(([n]) => scope.has(n))
      .flatMap(([, ps]) => ps.map((p) => p.metadata.name)),
  );
  for (const e of view.events.state === 'collected' ? view.events.value : []) {
    // A BackOff or Unhealthy warning dates the first crash better than the last run's log.
    if (e.type === 'Warning' && e.involvedObject.kind === 'Pod' && pods.has(e.involvedObject.name ?? ''))
      times.push(Date.parse(e.firstTimestamp ?? e.eventTime ?? e.lastTimestamp ?? ''));
  }
  const valid = times.filter((t) => Number.isFinite(t) && t >= since);
  return valid.length > 0 ? new Date(Math.min(...valid)) : undefined;
}

/** The changes that happened before the first failure (those that could have caused it). */
export function changesBeforeFailure(view: ClusterView, facts: Facts): string[] {
  const failure = firstKubeProxyFailure(view, facts);
  return auditChanges(view)
    .filter((c) => !failure || c.at <= failure)
    .map((c) => describeChange(c, failure));
}

/** Timeline entries: every relevant change, placed against the first failure. */
export function auditTimelineEntries(view: ClusterView, facts: Facts): { at: Date; text: string }[] {
  const failure = firstKubeProxyFailure(view, facts);
  return auditChanges(view)
    .slice(-10)
    .map((c) => ({ at: c.at, text: `Audit: ${describeChange(c, failure)}` }));
}

/** Which root causes a change of each kind can explain. */
const explains: Record<string, readonly string[]> = {
  ConfigMap: [
    'pod_crash',
    'api_connectivity',
    'iptables_sync',
    'ipvs_modules',
    'stale_endpoints',
    'version_skew',
  ],
  DaemonSet: [
    'pod_crash',
    'api_connectivity',
    'iptables_sync',
    'ipvs_modules',
    'stale_endpoints',
    'version_skew',
  ],
  Service: ['service_config', 'no_endpoints'],
  EndpointSlice: [],
};

/** Notes for the root causes: the changes made before the first failure that could explain them. */
export function auditNotes(view: ClusterView, facts: Facts): { category: string; note: string }[] {
  const failure = firstKubeProxyFailure(view, facts);
  return auditChanges(view)
    .filter((c) => !failure || c.at <= failure)
    .flatMap((c) =>
      (explains[c.kind] ?? []).map((category) => ({
        category,
        note: `control-plane audit log: ${describeChange(c, failure)}`,
      })),
    );
}
