/** The runbooks' order, short-circuits and anti-hallucination rules, end to end over bundles. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ipvsModuleGaps } from '../src/checks/lib/ipvs-modules.js';
import { finding as makeFinding } from '../src/checks/types.js';
import { BundleSource } from '../src/cluster/bundle/bundle-source.js';
import type { Diagnosis, Progress } from '../src/engine/diagnosis.js';
import { diagnose, diagnoseSource } from '../src/engine/engine.js';
import { mitigationFor } from '../src/engine/mitigation.js';
import { bundlesDir, copyExample } from './helpers/bundles.js';

const n2 = 'ip-10-0-2-45.ec2.internal';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const run = (name: string) => diagnoseSource(new BundleSource(path.join(bundlesDir, name)));
const finding = (d: Diagnosis, check: string) => {
  const f = d.findings.find((x) => x.check === check);
  if (!f) throw new Error(`no finding ${check}`);
  return f;
};

async function editedCopy(name: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const copy = await copyExample(name);
  cleanups.push(copy.cleanup);
  await edit(copy.dir);
  return copy.dir;
}

describe('runbook order', () => {
  it('no ready endpoints comes first: kube-proxy crashing elsewhere is not investigated', async () => {
    const d = await run('no-endpoints-readiness');
    expect(d.rootCause.category).toBe('no_endpoints');
    expect(d.rootCause.detail).toContain('Not a kube-proxy problem');
    expect(d.stoppedAfter).toEqual({ phase: 'Triage: endpoints and nodes', reason: 'no_endpoints found' });
    expect(finding(d, 'kube-proxy.pods').status).toBe('skip');
    expect(finding(d, 'kube-proxy.pods').summary).toContain('runbook order');
    expect(d.ranking.map((r) => r.category)).toEqual(['no_endpoints']);
    expect(d.mitigation.actions).toEqual([]);
  });

  it('kube-proxy not running on the affected node stops before the failure domains, quoting the crash', async () => {
    const d = await run('kube-proxy-crashloop');
    expect(d.stoppedAfter?.reason).toBe('pod_crash found');
    expect(finding(d, 'dataplane.rules').status).toBe('skip');
    expect(finding(d, 'kube-proxy.pods').evidence.join('\n')).toContain(
      '"command failed" err="failed complete: failed to decode',
    );
    expect(d.mitigation.actions[0]).toMatchObject({
      id: 'delete-kube-proxy-pod',
      safety: 'YELLOW',
      node: n2,
    });
    expect(d.mitigation.immediate).toContain('ConfigMap');
  });

  it('the timeline runs even after a stop', async () => {
    const d = await run('kube-proxy-crashloop');
    expect(finding(d, 'timeline.events').status).toBe('info');
    expect(finding(d, 'timeline.events').evidence.some((e) => e.includes('BackOff'))).toBe(true);
  });

  it('reports progress through every phase', async () => {
    const source = new BundleSource(path.join(bundlesDir, 'healthy'));
    const view = await source.load();
    await source.close();
    const seen: Progress[] = [];
    diagnose(view, { onProgress: (p) => seen.push(p) });
    expect(seen[0]?.phase).toBe('North-south: Ingress and LoadBalancer');
    expect(seen.at(-1)).toEqual({ phase: 'Report', done: seen.at(-1)?.total, total: seen.at(-1)?.total });
    expect(seen.map((p) => p.done)).toEqual([...seen.map((p) => p.done)].sort((a, b) => a - b));
  });
});

describe('anti-hallucination rules', () => {
  it('errors older than the last successful sync are history, not cause', async () => {
    const d = await run('healthy-with-old-errors');
    expect(d.rootCause.category).toBe('none');
    expect(finding(d, 'kube-proxy.sync').evidence.join('\n')).toContain('history, not cause');
    expect(finding(d, 'kube-proxy.api').evidence.join('\n')).toContain('history, not cause');
  });

  it('POD_SECURITY_GROUP_ENFORCING_MODE is never blamed for pods without security groups for pods', async () => {
    const d = await run('api-unauthorized');
    const cni = finding(d, 'cni.agent');
    expect(cni.status).toBe('pass');
    expect(cni.evidence.join('\n')).toContain(
      'POD_SECURITY_GROUP_ENFORCING_MODE=strict: affects only pods annotated vpc.amazonaws.com/pod-eni; 0 of 3 backend pod(s) are not affected',
    );
    expect(JSON.stringify(d.ranking)).not.toContain('POD_SECURITY_GROUP');
  });

  it('stale rules on a node where kube-proxy cannot list/watch are the symptom, not the cause', async () => {
    const d = await run('api-unauthorized');
    expect(d.ranking.map((r) => r.category)).toEqual(['api_connectivity', 'stale_endpoints']);
    expect(d.ranking[1]?.detail).toContain('consequence of api_connectivity');
  });

  it('KUBE-SERVICES empty means kube-proxy, not the CNI or node network', async () => {
    const dir = await editedCopy('node-cni-notready', async (d) => {
      const file = path.join(d, 'nodes', n2, 'iptables-save.txt');
      const text = await readFile(file, 'utf8');
      await writeFile(
        file,
        text
          .split('\n')
          .filter((l) => !l.startsWith('-A KUBE-SERVICES') || l.includes('has no endpoints'))
          .join('\n'),
      );
    });
    const d = await diagnoseSource(new BundleSource(dir));
    expect(d.rootCause.category).toBe('iptables_sync');
    expect(d.rootCause.detail).toContain('KUBE-SERVICES empty');
    const nodeNetwork = d.ranking.find((r) => r.category === 'node_network');
    expect(nodeNetwork?.detail).toContain('the CNI never touches KUBE-SERVICES');
  });

  it('when nothing is wrong the answer is none, with no actions and nothing invented', async () => {
    for (const name of ['healthy', 'healthy-ipvs', 'healthy-with-old-errors']) {
      const d = await run(name);
      expect(d.rootCause.category).toBe('none');
      expect(d.severity).toBe('NONE');
      expect(d.findings.filter((f) => f.status === 'fail')).toEqual([]);
    }
  });
});

describe('targets', () => {
  it('a cluster-wide diagnosis (no Service, no node) still finds kube-proxy down where it is', async () => {
    const dir = path.join(bundlesDir, 'kube-proxy-crashloop');
    const d = await diagnoseSource(new BundleSource(dir), { clusterWide: true });
    expect(d.target).toEqual({ namespace: null, service: null, node: null, from: null });
    expect(d.rootCause).toMatchObject({ category: 'pod_crash', nodes: [n2] });
    expect(finding(d, 'endpoints.ready').status).toBe('skip');
    expect(finding(d, 'kube-proxy.pods').nodes?.['ip-10-0-1-23.ec2.internal']?.status).toBe('pass');
  });

  it('the node in scope decides: stale rules on another node do not blame this one', async () => {
    const d = await diagnoseSource(new BundleSource(path.join(bundlesDir, 'stale-endpoints')), {
      target: { namespace: 'app', service: 'web-api', node: 'ip-10-0-1-23.ec2.internal' },
    });
    expect(d.rootCause.category).toBe('none');
  });

  it('a Service that does not exist is reported as such', async () => {
    const d = await diagnoseSource(new BundleSource(path.join(bundlesDir, 'healthy')), {
      target: { namespace: 'app', service: 'web-apii' },
    });
    expect(d.rootCause.category).toBe('service_config');
    expect(d.rootCause.detail).toBe('Service app/web-apii does not exist; clients resolving it get NXDOMAIN');
  });

  it('diagnoses kube-system/kube-dns from the same bundle', async () => {
    const d = await diagnoseSource(new BundleSource(path.join(bundlesDir, 'coredns-down')), {
      target: { namespace: 'kube-system', service: 'kube-dns' },
    });
    expect(d.rootCause.category).toBe('no_endpoints');
  });
});

describe('suggested actions', () => {
  const explosion = makeFinding(
    { id: 'kube-proxy.sync', domain: 'rule-sync' },
    'fail',
    'rule sync takes 14.2s on average with 48,000 rules (> 20,000)',
  );
  const suggest = (gaps: string[]) =>
    mitigationFor({
      category: 'iptables_sync',
      nodes: [n2],
      detail: 'slow syncs',
      findings: [explosion],
      target: { namespace: 'app', service: 'web-api', node: null },
      ipvsModuleGaps: gaps,
    }).actions.find((a) => a.id === 'switch-kube-proxy-mode-ipvs');

  it('offers the IPVS switch for rule explosion, and refuses it when a node lacks the IPVS modules', () => {
    expect(suggest([])).toMatchObject({ safety: 'RED' });
    expect(suggest([])?.blockedBy).toBeUndefined();
    expect(suggest([`${n2}: no ip_vs, ip_vs_rr`])?.blockedBy).toBe(
      `IPVS kernel modules are missing (${n2}: no ip_vs, ip_vs_rr): load them on every node first`,
    );
  });

  it('reads the module gaps from the captured lsmod of each node', async () => {
    const view = await new BundleSource(path.join(bundlesDir, 'healthy')).load({});
    const gaps = ipvsModuleGaps(view);
    // The healthy iptables cluster never loaded IPVS: every captured node lacks the modules.
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps[0]).toMatch(/: no ip_vs/);
    const ipvsView = await new BundleSource(path.join(bundlesDir, 'healthy-ipvs')).load({});
    expect(ipvsModuleGaps(ipvsView)).toEqual([]);
  });
});
