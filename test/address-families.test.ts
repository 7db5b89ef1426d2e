/**
 * Address families and nftables layouts on real captures: upstream kube-proxy test dumps
 * replayed through the real iptables-restore / ip6tables-restore / nft and read back
 * with iptables-save / ip6tables-save / `nft list ruleset` (scripts/real-captures).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import { parseNftRuleset, serviceBackends } from '../src/cluster/parse/nft.js';
import type { Diagnosis } from '../src/engine/diagnosis.js';
import { diagnoseSource } from '../src/engine/engine.js';
import { serve } from './helpers/live.js';
import { type Ns1Bundle, ns1Bundle, realCapture, targetNode } from './helpers/real-captures.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function diagnoseNs1(spec: Ns1Bundle): Promise<Diagnosis> {
  const bundle = await ns1Bundle(spec);
  cleanups.push(bundle.cleanup);
  return await diagnoseSource(new BundleSource(bundle.dir));
}

const finding = (d: Diagnosis, check: string) => {
  const f = d.findings.find((x) => x.check === check);
  if (!f) throw new Error(`no finding ${check}`);
  return f;
};

const v4 = (ip: string, pod: string) => ({ ip, pod });
/** One dual-stack pod (the iptables captures' svc1), or an IPv6-only second one (the nft ip6 table's). */
const dualSlices = (v6a = 'fd00:10:180::1', v6b?: string) => [
  { addressType: 'IPv4' as const, addresses: [v4('10.180.0.1', 'svc1-a')] },
  {
    addressType: 'IPv6' as const,
    addresses: [v4(v6a, 'svc1-a'), ...(v6b ? [v4(v6b, 'svc1-b')] : [])],
  },
];
const nftDualSlices = () => dualSlices('fd00:10:180::1', 'fd00:10:180::2:1');

async function dualStackIptables(overrides: Partial<Ns1Bundle> = {}): Promise<Diagnosis> {
  return await diagnoseNs1({
    clusterIPs: ['172.30.0.41', 'fd00:172:30::41'],
    ipFamilies: ['IPv4', 'IPv6'],
    slices: dualSlices(),
    proxyMode: 'iptables',
    captures: {
      'iptables-save.txt': await realCapture('iptables-dual-stack', 'iptables-save.txt'),
      'ip6tables-save.txt': await realCapture('iptables-dual-stack', 'ip6tables-save.txt'),
    },
    ...overrides,
  });
}

describe('address families (iptables-save and ip6tables-save)', () => {
  it('a dual-stack Service matches each family against its own capture', async () => {
    const d = await dualStackIptables();
    const f = finding(d, 'dataplane.rules');
    expect(f.status).toBe('pass');
    expect(f.nodes?.[targetNode]?.status).toBe('pass');
  });

  it('an IPv6 backend missing from ip6tables-save is stale in the IPv6 family only', async () => {
    const d = await dualStackIptables({ slices: dualSlices('fd00:10:180::3') });
    const f = finding(d, 'dataplane.rules');
    expect(f.status).toBe('fail');
    expect(f.nodes?.[targetNode]?.summary).toContain(
      'ns1/svc1:p80 (IPv6): 1 stale backend(s) [fd00:10:180::1]:80',
    );
    expect(f.nodes?.[targetNode]?.summary).not.toContain('(IPv4): 1 stale');
    expect(d.rootCause.category).toBe('stale_endpoints');
  });

  it('IPv6 primary (ipFamilies [IPv6, IPv4]) is read the same way', async () => {
    const d = await dualStackIptables({
      clusterIPs: ['fd00:172:30::41', '172.30.0.41'],
      ipFamilies: ['IPv6', 'IPv4'],
    });
    expect(finding(d, 'dataplane.rules').status).toBe('pass');
  });

  it('a family without its capture is unknown and names what to collect, never pass', async () => {
    const d = await dualStackIptables({
      captures: { 'iptables-save.txt': await realCapture('iptables-dual-stack', 'iptables-save.txt') },
    });
    const f = finding(d, 'dataplane.rules');
    expect(f.status).toBe('unknown');
    expect(f.nodes?.[targetNode]?.summary).toContain(
      `collect nodes/${targetNode}/ip6tables-save.txt with ip6tables-save`,
    );
  });

  it('live exec mode reads ip6tables-save too, and agrees with the bundle', async () => {
    const bundle = await ns1Bundle({
      clusterIPs: ['172.30.0.41', 'fd00:172:30::41'],
      ipFamilies: ['IPv4', 'IPv6'],
      slices: dualSlices('fd00:10:180::3'),
      proxyMode: 'iptables',
      captures: {
        'iptables-save.txt': await realCapture('iptables-dual-stack', 'iptables-save.txt'),
        'ip6tables-save.txt': await realCapture('iptables-dual-stack', 'ip6tables-save.txt'),
      },
    });
    cleanups.push(bundle.cleanup);
    const served = await serve(bundle.dir);
    cleanups.push(served.stop);
    const target = { namespace: 'ns1', service: 'svc1', node: targetNode };
    const live = await diagnoseSource(served.source({ nodeCaptures: 'exec' }), { target });
    const f = finding(live, 'dataplane.rules');
    expect(f.status).toBe('fail');
    expect(f.nodes?.[targetNode]?.summary).toContain('(IPv6): 1 stale backend(s) [fd00:10:180::1]:80');
    const commands = served.server.requests
      .filter((r) => r.path.endsWith('/exec'))
      .map((r) => r.query.command);
    expect(commands).toEqual(expect.arrayContaining(['ip6tables-save -t nat', 'ip6tables-save -t filter']));
    // `kproxy collect` writes what the live source read: the IPv6 capture is part of the bundle.
    const { bundle: written } = await served.source({ nodeCaptures: 'exec' }).collect({ target });
    const ip6 = written.entries.get(`nodes/${targetNode}/ip6tables-save.txt`);
    expect(ip6 && 'content' in ip6 ? ip6.content : '').toContain('--to-destination [fd00:10:180::1]:80');
  });

  it('the test API server answers nft list table ip|ip6 as nft does, from nft.txt', async () => {
    const bundle = await ns1Bundle({
      clusterIPs: ['172.30.0.41'],
      ipFamilies: ['IPv4'],
      slices: [],
      proxyMode: 'nftables',
      captures: { 'nft.txt': await realCapture('nftables-overall', 'nft.txt') },
    });
    cleanups.push(bundle.cleanup);
    const served = await serve(bundle.dir);
    cleanups.push(served.stop);
    const http = served.source().http;
    const run = (family: string) =>
      http.exec(
        'kube-system',
        'kube-proxy-k2v9d',
        'kube-proxy',
        ['nft', 'list', 'table', family, 'kube-proxy'],
        {
          verb: 'create',
          resource: 'pods/exec',
          namespace: 'kube-system',
        },
      );
    const ip = await run('ip');
    expect(ip.ok && ip.value.startsWith('table ip kube-proxy {') && ip.value.trimEnd().endsWith('}')).toBe(
      true,
    );
    const ip6 = await run('ip6');
    expect(ip6.ok).toBe(false);
    if (!ip6.ok) expect(ip6.reason).toContain('Error: No such file or directory');
  });

  it('endpoints.ready counts endpoints, not addresses: a dual-stack pod is one endpoint', async () => {
    const d = await dualStackIptables();
    expect(finding(d, 'endpoints.ready').summary).toMatch(/^1 ready endpoint\(s\) of 1 /);
  });

  it('FQDN EndpointSlices are ignored, as kube-proxy ignores them', async () => {
    const d = await diagnoseNs1({
      clusterIPs: ['172.30.0.41'],
      ipFamilies: ['IPv4'],
      slices: [
        { addressType: 'IPv4', addresses: [v4('10.180.0.1', 'svc1-a')] },
        { addressType: 'FQDN', addresses: [{ ip: 'legacy.example.com' }] },
      ],
      proxyMode: 'iptables',
      captures: { 'iptables-save.txt': await realCapture('iptables-overall', 'iptables-save.txt') },
    });
    expect(finding(d, 'dataplane.rules').status).toBe('pass');
    const ready = finding(d, 'endpoints.ready');
    expect(ready.summary).toMatch(/^1 ready endpoint\(s\) of 1 /);
    expect(ready.evidence.join('\n')).toContain('addressType FQDN, ignored by kube-proxy');
  });
});

describe('nftables: ip and ip6 tables, every layout', () => {
  it('an IPv6-only Service is read from table ip6 kube-proxy', async () => {
    const d = await diagnoseNs1({
      clusterIPs: ['fd00:172:30::41'],
      ipFamilies: ['IPv6'],
      slices: [nftDualSlices()[1] as Ns1Bundle['slices'][number]],
      proxyMode: 'nftables',
      captures: { 'nft.txt': await realCapture('nftables-ipv6', 'nft.txt') },
    });
    const f = finding(d, 'dataplane.rules');
    expect(f.status).toBe('pass');
  });

  it('dual-stack in nftables mode: both tables, each family against its own', async () => {
    const spec: Ns1Bundle = {
      clusterIPs: ['172.30.0.41', 'fd00:172:30::41'],
      ipFamilies: ['IPv4', 'IPv6'],
      slices: nftDualSlices(),
      proxyMode: 'nftables',
      captures: { 'nft.txt': await realCapture('nftables-dual-stack', 'nft.txt') },
    };
    expect(finding(await diagnoseNs1(spec), 'dataplane.rules').status).toBe('pass');
    // Only `table ip kube-proxy` captured: the IPv6 family is unknown, not "no rules".
    const ipOnly = await diagnoseNs1({
      ...spec,
      captures: { 'nft.txt': await realCapture('nftables-overall', 'nft.txt') },
    });
    const f = finding(ipOnly, 'dataplane.rules');
    expect(f.status).toBe('unknown');
    expect(f.nodes?.[targetNode]?.summary).toContain('nft.txt has no table ip6 kube-proxy');
  });

  const svc4 = (b: string): Partial<Ns1Bundle> => ({
    clusterIPs: ['172.30.0.44'],
    ipFamilies: ['IPv4'],
    slices: [{ addressType: 'IPv4', addresses: [v4('10.180.0.4', 'svc4-a'), v4(b, 'svc4-b')] }],
    proxyMode: 'nftables',
  });

  it('a service chain that DNATs through numgen … map { … : ip . port } (1.37 layout)', async () => {
    const nft = await realCapture('nftables-map-dnat', 'nft.txt');
    const ok = await diagnoseNs1({ ...svc4('10.180.0.5'), captures: { 'nft.txt': nft } } as Ns1Bundle);
    expect(finding(ok, 'dataplane.rules').status).toBe('pass');
    const stale = await diagnoseNs1({ ...svc4('10.180.0.9'), captures: { 'nft.txt': nft } } as Ns1Bundle);
    const f = finding(stale, 'dataplane.rules');
    expect(f.status).toBe('fail');
    expect(f.evidence.join('\n')).toContain(
      'dnat ip to numgen random mod 2 map { 0 : 10.180.0.4 . 80, 1 : 10.180.0.5 . 80 }',
    );
  });

  it('endpoint chains with dnat to (1.29–1.36 layout)', async () => {
    const nft = await realCapture('nftables-overall', 'nft.txt');
    const ok = await diagnoseNs1({ ...svc4('10.180.0.5'), captures: { 'nft.txt': nft } } as Ns1Bundle);
    expect(finding(ok, 'dataplane.rules').status).toBe('pass');
  });

  it('an IPv6 service chain that DNATs through numgen … map { … : ip6 . port }', async () => {
    const spec: Ns1Bundle = {
      clusterIPs: ['fd00:172:30::41'],
      ipFamilies: ['IPv6'],
      slices: [nftDualSlices()[1] as Ns1Bundle['slices'][number]],
      proxyMode: 'nftables',
      captures: { 'nft.txt': await realCapture('nftables-ipv6-map-dnat', 'nft.txt') },
    };
    expect(finding(await diagnoseNs1(spec), 'dataplane.rules').status).toBe('pass');
    const stale = await diagnoseNs1({
      ...spec,
      slices: [{ addressType: 'IPv6', addresses: [v4('fd00:10:180::1', 'a')] }],
    });
    expect(finding(stale, 'dataplane.rules').nodes?.[targetNode]?.summary).toContain(
      '1 stale backend(s) [fd00:10:180::2:1]:80',
    );
  });

  it('parses the DNAT targets of both layouts and both families as nft prints them', async () => {
    const map = parseNftRuleset(await realCapture('nftables-map-dnat', 'nft.txt'));
    expect([...serviceBackends(map, 'service-LAUZTJTB-ns4/svc4/tcp/p80').keys()]).toEqual([
      '10.180.0.4:80',
      '10.180.0.5:80',
    ]);
    const dual = await realCapture('nftables-dual-stack', 'nft.txt');
    const ip6 = parseNftRuleset(dual, 'ip6');
    expect(ip6.serviceIps[0]).toMatchObject({ ip: 'fd00:172:30::41', protocol: 'tcp', port: '80' });
    expect([...serviceBackends(ip6, 'service-ULMVA6XW-ns1/svc1/tcp/p80').keys()].sort()).toEqual([
      '[fd00:10:180::1]:80',
      '[fd00:10:180::2:1]:80',
    ]);
    expect(parseNftRuleset(dual, 'ip').serviceIps.map((e) => e.ip)).toEqual([
      '192.168.99.33',
      '172.30.0.41',
      '172.30.0.44',
    ]);
  });
});
