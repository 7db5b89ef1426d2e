/**
 * The real kube-proxy (v1.34.4, iptables mode) for one kwok node, in that node's own
 * network namespace, watching the lab's apiserver: the rules it programs for a real
 * EndpointSlice, read back with iptables-save inside the namespace, and followed when the
 * endpoints change. Needs root (`ip netns`).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type NodeProxy, startNodeProxy } from '../../lab/src/node-proxy.js';
import { admin, asList, eventually } from './lab-helpers.js';

const lab = inject('lab');
const ns = 'conformance-rules';
const isRoot = process.getuid?.() === 0;

const workload = (replicas: number) => [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'registry.k8s.io/e2e-test-images/agnhost:2.53',
              ports: [{ name: 'http', containerPort: 8080 }],
            },
          ],
        },
      },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: ns },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  },
];

async function readyEndpoints(): Promise<string[]> {
  const out = await admin(lab, [
    'get',
    'endpointslices',
    '-n',
    ns,
    '-l',
    'kubernetes.io/service-name=web',
    '-o',
    'jsonpath={range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\\n"}{end}',
  ]);
  return out.split('\n').filter(Boolean).sort();
}

/** The DNAT targets of the Service port's KUBE-SEP chains, as kube-proxy wrote them. */
function sepTargets(natTable: string): string[] {
  const comment = `--comment "${ns}/web:http"`;
  return natTable
    .split('\n')
    .filter((l) => l.startsWith('-A KUBE-SEP-') && l.includes(comment) && l.includes('-j DNAT'))
    .map((l) => /--to-destination (\S+)/.exec(l)?.[1] ?? '')
    .sort();
}

describe.skipIf(!isRoot)('real kube-proxy in a node network namespace (needs root for ip netns)', () => {
  let proxy: NodeProxy | undefined;

  beforeAll(async () => {
    await admin(lab, ['apply', '-f', '-'], asList(workload(2)));
    await eventually('2 ready endpoints', async () =>
      (await readyEndpoints()).length === 2 ? true : undefined,
    );
    proxy = await startNodeProxy({ ...lab.nodeProxy, nodeName: lab.nodeNames[0] ?? '' });
  });

  afterAll(async () => {
    await proxy?.stop();
    await admin(lab, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  });

  it('programs KUBE-SVC and KUBE-SEP chains for the EndpointSlice, DNAT to each ready endpoint', async () => {
    const p = proxy as NodeProxy;
    const clusterIp = (
      await admin(lab, ['get', 'service', 'web', '-n', ns, '-o', 'jsonpath={.spec.clusterIP}'])
    ).trim();
    const expected = (await readyEndpoints()).map((ip) => `${ip}:8080`);
    const nat = await eventually('the Service in the nat table', async () => {
      const table = await p.iptablesSave('nat');
      return sepTargets(table).length === expected.length ? table : undefined;
    });
    expect(sepTargets(nat)).toEqual(expected);
    const portal = nat
      .split('\n')
      .find((l) => l.startsWith('-A KUBE-SERVICES') && l.includes(`${ns}/web:http cluster IP`));
    expect(portal).toContain(`-d ${clusterIp}/32`);
    expect(portal).toMatch(/--dport 80 -j KUBE-SVC-[A-Z0-9]{16}$/);
  });

  it('follows the EndpointSlice when the Deployment scales', async () => {
    const p = proxy as NodeProxy;
    await admin(lab, ['scale', 'deployment', 'web', '-n', ns, '--replicas=3']);
    const expected = await eventually('3 ready endpoints', async () => {
      const eps = await readyEndpoints();
      return eps.length === 3 ? eps.map((ip) => `${ip}:8080`) : undefined;
    });
    const targets = await eventually('kube-proxy to program the third endpoint', async () => {
      const t = sepTargets(await p.iptablesSave('nat'));
      return t.length === 3 ? t : undefined;
    });
    expect(targets).toEqual(expected);
  });
});
