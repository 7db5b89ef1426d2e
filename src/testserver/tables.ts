/**
 * Server-side printing, as `kubectl get` asks for it (`Accept: application/json;as=Table;
 * v=v1;g=meta.k8s.io, …`): a meta.k8s.io/v1 Table whose rows carry the object's metadata
 * (PartialObjectMetadata, the default `includeObject=Metadata`).
 * - Pods: kubernetes/kubernetes pkg/printers/internalversion/printers.go `printPod`
 *   (NAME READY STATUS RESTARTS AGE; STATUS is the last container's waiting or terminated
 *   reason, `Running` when a container runs, `Terminating` once deleted; RESTARTS without
 *   the "(… ago)" suffix).
 * - Everything else: the default convertor (k8s.io/apiserver pkg/registry/rest/table.go:
 *   NAME and CREATED AT), a subset of the real columns for those kinds.
 * Ages are relative to the served cluster's clock.
 */
type Json = Record<string, unknown>;

/** Whether the client asked for a Table (kubectl's Accept header). */
export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '') && /g=meta\.k8s\.io/.test(accept ?? '');
}

interface PodLike {
  metadata?: { name?: string; creationTimestamp?: string; deletionTimestamp?: string };
  spec?: { containers?: unknown[] };
  status?: {
    phase?: string;
    reason?: string;
    containerStatuses?: {
      ready?: boolean;
      restartCount?: number;
      state?: {
        waiting?: { reason?: string };
        running?: unknown;
        terminated?: { reason?: string; exitCode?: number };
      };
    }[];
  };
}

/** The list as a Table, when `list` is a list (`kind` ending in `List`); else undefined. */
export function asTable(list: Json, now: Date): Json | undefined {
  if (typeof list.kind !== 'string' || !list.kind.endsWith('List') || !Array.isArray(list.items))
    return undefined;
  const items = list.items as PodLike[];
  const pods = list.kind === 'PodList';
  const columns = pods
    ? [
        column('Name', 'string', 'name'),
        column('Ready', 'string'),
        column('Status', 'string'),
        column('Restarts', 'string'),
        column('Age', 'string'),
      ]
    : [column('Name', 'string', 'name'), column('Created At', 'date')];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: list.metadata ?? {},
    columnDefinitions: columns,
    rows: items.map((item) => ({
      cells: pods ? podCells(item, now) : [item.metadata?.name ?? '', item.metadata?.creationTimestamp ?? ''],
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: item.metadata ?? {} },
    })),
  };
}

function column(name: string, type: string, format = ''): Json {
  return { name, type, format, description: '', priority: 0 };
}

function podCells(pod: PodLike, now: Date): unknown[] {
  const statuses = pod.status?.containerStatuses ?? [];
  const total = pod.spec?.containers?.length ?? statuses.length;
  const ready = statuses.filter((c) => c.ready).length;
  const restarts = statuses.reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
  let reason = pod.status?.reason || pod.status?.phase || '';
  let running = false;
  for (const c of [...statuses].reverse()) {
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state?.terminated)
      reason = c.state.terminated.reason || `ExitCode:${c.state.terminated.exitCode ?? 0}`;
    else if (c.state?.running && c.ready) running = true;
  }
  if (reason === 'Completed' && running) reason = 'Running';
  if (pod.metadata?.deletionTimestamp) reason = 'Terminating';
  return [
    pod.metadata?.name ?? '',
    `${ready}/${total}`,
    reason,
    restarts,
    age(pod.metadata?.creationTimestamp, now),
  ];
}

/** apimachinery util/duration `HumanDuration`, as kubectl's AGE shows it. */
export function age(timestamp: string | undefined, now: Date): string {
  const t = Date.parse(timestamp ?? '');
  if (Number.isNaN(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((now.getTime() - t) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  if (d < 365 * 8) return d % 365 === 0 ? `${Math.floor(d / 365)}y` : `${Math.floor(d / 365)}y${d % 365}d`;
  return `${Math.floor(d / 365)}y`;
}
