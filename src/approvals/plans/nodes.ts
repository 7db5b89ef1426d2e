/** Node actions: cordon (drain is in drain.ts). */
import type { Fetched, KubeHttp } from '../../cluster/live/kube-http.js';
import { mergePatch, type Plan, type PlannedWrite, refused } from '../plan.js';

export async function planCordon(http: KubeHttp, node: string): Promise<Fetched<Plan>> {
  const path = `/api/v1/nodes/${node}`;
  const got = await http.getJson<{ spec?: { unschedulable?: boolean } }>(
    path,
    {},
    { verb: 'get', resource: 'nodes' },
  );
  if (!got.ok) return got.status === 404 ? refused(`node ${node} no longer exists`) : got;
  if (got.value.spec?.unschedulable) return refused(`node ${node} is already cordoned`);
  return {
    ok: true,
    value: {
      summary: `Cordon ${node}: no new pods are scheduled there; running pods stay`,
      writes: [cordonWrite(node)],
    },
  };
}

export function cordonWrite(node: string): PlannedWrite {
  return {
    method: 'PATCH',
    path: `/api/v1/nodes/${node}`,
    contentType: mergePatch,
    body: { spec: { unschedulable: true } },
    describe: `PATCH Node ${node} spec.unschedulable=true`,
  };
}
