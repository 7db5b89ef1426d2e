/**
 * What a probe matrix says, by the runbooks' decision tree (000 §4, 004 "Symptom Decision
 * Tree"): pod IP works and Service IP fails → kube-proxy; both fail → node or network;
 * name fails → DNS; all work → the path works from there. Only what the rows show: a
 * matrix without the rows a branch needs does not take that branch.
 */
import type { ProbeMatrix, ProbeRow } from '../../cluster/probe/matrix.js';
import type { ClusterView } from '../../cluster/view.js';

export type ProbeReadingKind =
  /** The VIP fails while every endpoint answers directly: kube-proxy on that node. */
  | 'vip-fails'
  /** The VIP and every endpoint fail. */
  | 'all-fail'
  /** The name does not resolve (or not to the ClusterIP) while the VIP answers. */
  | 'dns-fails'
  /** Everything the probe tried answered. */
  | 'works'
  /** Anything else: some answer, some do not, with no branch of the tree decided. */
  | 'mixed';

export interface ProbeReading {
  readonly node: string;
  readonly kind: ProbeReadingKind;
  readonly matrix: ProbeMatrix;
  /** The matrix in one line: `name ✓ 10.100.12.7 · VIP 10.100.12.7:80 ✗ timeout · pods 2/2 ✓ · API ✓ 403`. */
  readonly line: string;
  /** The VIP answered (undefined: no VIP tried). */
  readonly vipOk: boolean | undefined;
  readonly apiOk: boolean | undefined;
}

const mark = (row: ProbeRow) =>
  row.outcome === 'ok'
    ? `✓${row.detail && row.detail !== '-' ? ` ${row.detail}` : ''}`
    : `✗ ${[row.outcome, row.detail].filter(Boolean).join(' ')}`;

export function readProbe(matrix: ProbeMatrix, clusterIP: string | undefined): ProbeReading {
  const of = (kind: ProbeRow['kind']) => matrix.rows.filter((r) => r.kind === kind);
  const [dns] = of('dns');
  const [vip] = of('vip');
  const [api] = of('apiserver');
  const [nodePort] = of('nodeport');
  const endpoints = of('endpoint');
  const up = endpoints.filter((r) => r.outcome === 'ok');
  const dnsOk = dns
    ? dns.outcome === 'ok' && (!clusterIP || (dns.detail ?? '').split(',').includes(clusterIP))
    : undefined;
  const vipOk = vip ? vip.outcome === 'ok' : undefined;
  const apiOk = api ? api.outcome === 'ok' : undefined;
  let kind: ProbeReadingKind = 'mixed';
  if (vipOk === false && endpoints.length > 0 && up.length === endpoints.length) kind = 'vip-fails';
  else if (vipOk === false && endpoints.length > 0 && up.length === 0) kind = 'all-fail';
  else if (dnsOk === false && vipOk !== false) kind = 'dns-fails';
  else if (matrix.rows.every((r) => r.outcome === 'ok') && dnsOk !== false) kind = 'works';

  const parts: string[] = [];
  if (dns)
    parts.push(
      dns.outcome === 'ok' && dnsOk === false
        ? `name ✗ ${dns.detail} (not ${clusterIP})`
        : `name ${mark(dns)}`,
    );
  if (vip) parts.push(`VIP ${vip.target} ${mark(vip)}`);
  if (endpoints.length > 0) {
    const down = endpoints.filter((r) => r.outcome !== 'ok').map((r) => `${r.target} ${mark(r)}`);
    parts.push(
      `pods ${up.length}/${endpoints.length} ${up.length === endpoints.length ? '✓' : '✗'}${down.length ? ` (${down.join(', ')})` : ''}`,
    );
  }
  if (nodePort) parts.push(`NodePort ${nodePort.target} ${mark(nodePort)}`);
  if (api) parts.push(`API ${mark(api)}`);
  return { node: matrix.node, kind, matrix, line: parts.join(' · '), vipOk, apiOk };
}

/** Where the probe ran, as the report says it: `from ip-10-0-2-45 as app/batch (namespace app)`. */
export function probeSite(matrix: ProbeMatrix): string {
  return `from ${matrix.node}${matrix.as ? ` as ${matrix.as}` : ''} (namespace ${matrix.namespace})`;
}

/**
 * Why a matrix does not speak for this diagnosis' target: it tried another Service's name
 * (a bundle diagnosed with another `--service`). Undefined when it does.
 */
export function probeMismatch(matrix: ProbeMatrix, view: ClusterView): string | undefined {
  const name = view.target.service
    ? `${view.target.service}.${view.target.namespace ?? 'default'}.svc`
    : undefined;
  const tried = matrix.rows.find((r) => r.kind === 'dns')?.target;
  if (tried === name) return undefined;
  return `the probe tried ${tried ?? 'no Service'}, not ${name ?? 'no Service'}`;
}

/** The readings of every probe that ran, parsed and tried the target, by node. */
export function probeReadings(view: ClusterView): ProbeReading[] {
  const clusterIP =
    view.service.state === 'collected' ? (view.service.value?.spec.clusterIP ?? undefined) : undefined;
  const vip = clusterIP && clusterIP !== 'None' ? clusterIP : undefined;
  return [...(view.probes?.values() ?? [])]
    .filter((p) => p.state === 'collected' && !probeMismatch(p.value, view))
    .map((p) => (p.state === 'collected' ? readProbe(p.value, vip) : undefined))
    .filter((r): r is ProbeReading => r !== undefined);
}
