/**
 * The real kube-proxy (v1.34.4) for a kwok node, in that node's own network namespace,
 * watching the lab's apiserver: the rules it programs for a real EndpointSlice, in
 * iptables mode (iptables-save) and nftables mode (`nft list table ip kube-proxy`), read
 * back inside the namespace, followed when the endpoints change, and read the same way by
 * kproxy's own parsers (src/cluster/parse). Needs root (`ip netns`).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type NodeProxy, startNodeProxy } from '../../lab/src/node-proxy.js';
import { parseIptablesSave } from '../../src/cluster/parse/iptables.js';
import { parseNftRuleset, serviceBackends } from '../../src/cluster/parse/nft.js';
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

/** The backends kproxy's iptables parser follows from the ClusterIP portal (SVC → SEP → DNAT). */
function kproxyIptablesBackends(natTable: string, clusterIp: string): string[] {
  const save = parseIptablesSave(natTable);
  const portal = save
    .rules('nat', 'KUBE-SERVICES')
    .find((r) => r.destination === `${clusterIp}/32` && r.dport === '80');
  const seps = save.rules('nat', portal?.jump ?? '').map((r) => r.jump ?? '');
  return seps
    .flatMap((sep) => save.rules('nat', sep).map((r) => r.toDestination ?? ''))
    .filter(Boolean)
    .sort();
}

const clusterIpOf = async () =>
  (await admin(lab, ['get', 'service', 'web', '-n', ns, '-o', 'jsonpath={.spec.clusterIP}'])).trim();

describe.skipIf(!isRoot)('real kube-proxy in a node network namespace (needs root for ip netns)', () => {
  let proxy: NodeProxy | undefined;
  let nftProxy: NodeProxy | undefined;

  beforeAll(async () => {
    await admin(lab, ['apply', '-f', '-'], asList(workload(2)));
    await eventually('2 ready endpoints', async () =>
      (await readyEndpoints()).length === 2 ? true : undefined,
    );
    proxy = await startNodeProxy({ ...lab.nodeProxy, nodeName: lab.nodeNames[0] ?? '' });
    nftProxy = await startNodeProxy({ ...lab.nodeProxy, nodeName: lab.nodeNames[1] ?? '', mode: 'nftables' });
  });

  afterAll(async () => {
    await proxy?.stop();
    await nftProxy?.stop();
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
    expect(kproxyIptablesBackends(nat, clusterIp)).toEqual(expected);
  });

  it('nftables mode: the service-ips map sends the ClusterIP to a service chain that DNATs to each ready endpoint', async () => {
    const p = nftProxy as NodeProxy;
    const clusterIp = await clusterIpOf();
    const expected = (await readyEndpoints()).map((ip) => `${ip}:8080`);
    const text = await eventually('the Service in the kube-proxy table', async () => {
      const t = await p.nftTable();
      return t.includes(`${clusterIp} . tcp . 80 : goto service-`) ? t : undefined;
    });
    // As printed: `elements = { 10.96.x.y . tcp . 80 : goto service-HASH-ns/web/tcp/http }`.
    expect(text).toMatch(
      new RegExp(
        `${clusterIp.replaceAll('.', '\\.')} \\. tcp \\. 80 : goto service-[A-Z0-9]{8}-${ns}/web/tcp/http`,
      ),
    );
    const nft = parseNftRuleset(text);
    const entry = nft.serviceIps.find((e) => e.ip === clusterIp && e.port === '80' && e.protocol === 'tcp');
    expect(entry?.verdict).toMatch(new RegExp(`^service-[A-Z0-9]{8}-${ns}/web/tcp/http$`));
    const backends = await eventually('every endpoint in the nft service chain', async () => {
      const b = [...serviceBackends(parseNftRuleset(await p.nftTable()), entry?.verdict ?? '').keys()].sort();
      return b.length === expected.length ? b : undefined;
    });
    expect(backends).toEqual(expected);
  });

  it('follows the EndpointSlice when the Deployment scales, in both modes', async () => {
    const p = proxy as NodeProxy;
    const clusterIp = await clusterIpOf();
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
    const nftTargets = await eventually('the nftables kube-proxy to program it too', async () => {
      const nft = parseNftRuleset(await (nftProxy as NodeProxy).nftTable());
      const chain = nft.serviceIps.find((e) => e.ip === clusterIp && e.port === '80')?.verdict ?? '';
      const b = [...serviceBackends(nft, chain).keys()].sort();
      return b.length === 3 ? b : undefined;
    });
    expect(nftTargets).toEqual(expected);
  });
});
