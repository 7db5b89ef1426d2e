/**
 * The EKS node ↔ control-plane path check and the audit-log correlation, on edited copies
 * of the example bundles: each verdict from the rule that decides it, `unknown` naming
 * the data or IAM action that is missing, never a guessed cause.
 */
import { cp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { KproxyError } from '../src/errors.js';
import { bundlesDir, copyExample } from './helpers/bundles.js';
import { BundleCopies, type BundleEdit, diagnoseDir, findingOf, n2 } from './helpers/edit-bundle.js';

const copies = new BundleCopies();
afterEach(() => copies.cleanup());

type Groups = {
  SecurityGroups: { GroupId: string; IpPermissions: unknown[]; IpPermissionsEgress: unknown[] }[];
};
const clusterSg = 'sg-0f1e2d3c4b5a69788';
const tcp = (port: number, src: { group?: string; cidr?: string; prefixList?: string }) => ({
  IpProtocol: 'tcp',
  FromPort: port,
  ToPort: port,
  UserIdGroupPairs: src.group ? [{ GroupId: src.group }] : [],
  IpRanges: src.cidr ? [{ CidrIp: src.cidr }] : [],
  PrefixListIds: src.prefixList ? [{ PrefixListId: src.prefixList }] : [],
});

/** The healthy incident (kube-proxy fine everywhere) with an EKS bundle's EC2 documents. */
async function healthyWithEc2(from: string, edit: (b: BundleEdit) => Promise<void> = async () => {}) {
  return copies.edit('healthy', async (b) => {
    await rm(b.file('eks/cluster.json'));
    await cp(path.join(bundlesDir, from, 'eks'), b.file('eks'), { recursive: true });
    await edit(b);
  });
}

describe('eks.network', () => {
  it('passes, quoting the admitting rule, when the cluster group admits the node group on 443', async () => {
    const dir = await copies.edit('eks-sg-missing-443', (b) =>
      b.json<Groups>('eks/ec2/security-groups.json', (doc) => {
        doc.SecurityGroups[0]?.IpPermissions.push(tcp(443, { group: 'sg-0d4e5f60718293a4b' }));
      }),
    );
    const d = await diagnoseDir(dir);
    const f = findingOf(d, 'eks.network');
    expect(f.status).toBe('pass');
    expect(f.evidence).toContain(`${clusterSg} inbound tcp 443 from sg-0d4e5f60718293a4b`);
    // The timeouts stay the root cause, as kube-proxy's log shows them: no network rule is invented.
    expect(d.rootCause.category).toBe('api_connectivity');
    expect(d.rootCause.detail).not.toContain('sg-');
  });

  it('rules that look closed while kube-proxy watches fine are a warning, not a root cause', async () => {
    const d = await diagnoseDir(await healthyWithEc2('eks-sg-missing-443'));
    const f = findingOf(d, 'eks.network');
    expect(f.status).toBe('warn');
    expect(f.suspect).toBeUndefined();
    expect(f.nodes?.[n2]?.status).toBe('warn');
    expect(d.rootCause.category).toBe('none');
  });

  it('a control plane that cannot reach the kubelet (10250) is a warning naming the group', async () => {
    const dir = await healthyWithEc2('eks-audit-configmap', (b) =>
      b.json<Groups>('eks/ec2/security-groups.json', (doc) => {
        const g = doc.SecurityGroups[0];
        if (g) g.IpPermissionsEgress = [tcp(443, { cidr: '0.0.0.0/0' })];
      }),
    );
    const f = findingOf(await diagnoseDir(dir), 'eks.network');
    expect(f.status).toBe('warn');
    expect(f.summary).toContain('cannot reach the kubelet on port 10250');
    expect(f.evidence.join('\n')).toContain(`no outbound rule of ${clusterSg} admits TCP 10250`);
  });

  it('is unknown naming the IAM action when a document could not be read, and skipped when none was collected', async () => {
    const dir = await copies.edit('eks-sg-missing-443', async (b) => {
      await rm(b.file('eks/ec2/security-groups.json'));
      await b.json<{ notCollected?: Record<string, string> }>('bundle.json', (m) => {
        m.notCollected = {
          'eks/ec2/security-groups.json':
            'ec2:DescribeSecurityGroups denied (UnauthorizedOperation): You are not authorized to perform this operation. — grant ec2:DescribeSecurityGroups',
        };
      });
    });
    const d = await diagnoseDir(dir);
    const f = findingOf(d, 'eks.network');
    expect(f.status).toBe('unknown');
    expect(f.summary).toContain('grant ec2:DescribeSecurityGroups');
    expect(d.rootCause.detail).not.toContain('sg-');
    expect(findingOf(await diagnoseDir(path.join(bundlesDir, 'healthy')), 'eks.network').status).toBe('skip');
  });

  it('a prefix-list rule on 443 cannot be evaluated: unknown, not a blocked path', async () => {
    const dir = await copies.edit('eks-sg-missing-443', (b) =>
      b.json<Groups>('eks/ec2/security-groups.json', (doc) => {
        doc.SecurityGroups[0]?.IpPermissions.push(tcp(443, { prefixList: 'pl-0a1b2c3d4e5f60718' }));
      }),
    );
    const f = findingOf(await diagnoseDir(dir), 'eks.network');
    expect(f.status).toBe('unknown');
    expect(f.summary).toContain('pl-0a1b2c3d4e5f60718: prefix-list rules are not evaluated');
  });

  it('public access only: a blackholed default route is the blocked path', async () => {
    const dir = await copies.edit('eks-public-cidrs-nat', (b) =>
      b.json<{ RouteTables: { Routes: { State: string }[] }[] }>('eks/ec2/route-tables.json', (doc) => {
        const route = doc.RouteTables[0]?.Routes[1];
        if (route) route.State = 'blackhole';
      }),
    );
    const d = await diagnoseDir(dir);
    expect(d.rootCause.category).toBe('api_connectivity');
    expect(d.rootCause.detail).toContain(
      'rtb-0a1b2c3d4e5f60718 route 0.0.0.0/0 → nat-0a1b2c3d4e5f60718 (blackhole): the target is gone',
    );
  });

  it('refuses a malformed EC2 document, naming the file', async () => {
    const dir = await copies.edit('eks-sg-missing-443', (b) =>
      b.write('eks/ec2/subnets.json', '{"Subnets": [{"CidrBlock": 1}]}'),
    );
    await expect(diagnoseDir(dir)).rejects.toThrow(
      /eks\/ec2\/subnets\.json: is not what aws ec2 subnets prints/,
    );
  });
});

describe('control-plane audit log', () => {
  it('a change after the first failure is in the timeline but not beside the root cause', async () => {
    const dir = await copies.edit('eks-audit-configmap', async (b) => {
      const text = await b.read('eks/audit.jsonl');
      await b.write('eks/audit.jsonl', text.replaceAll('2026-11-22T09:31:00', '2026-11-22T09:58:00'));
    });
    const d = await diagnoseDir(dir);
    expect(d.rootCause.detail).not.toContain('ci-deployer');
    expect(findingOf(d, 'timeline.events').evidence.join('\n')).toContain(
      'ConfigMap kube-system/kube-proxy-config patched by arn:aws:iam::123456789012:role/ci-deployer 23 min after the first kube-proxy failure',
    );
  });

  it('refuses a line that is not an audit event, naming the file and line', async () => {
    const dir = await copies.edit('eks-audit-configmap', (b) =>
      b.append('eks/audit.jsonl', ['{"kind":"Status"}']),
    );
    await expect(diagnoseDir(dir)).rejects.toThrow(
      /eks\/audit\.jsonl: line 7 is not an audit\.k8s\.io\/v1 Event/,
    );
  });

  it('the SDK clients are imported only on first use (an offline diagnosis never loads them)', async () => {
    const { readFile, readdir } = await import('node:fs/promises');
    const src = path.resolve(import.meta.dirname, '..', 'src');
    const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts'));
    for (const f of files) {
      const text = await readFile(path.join(src, f), 'utf8');
      expect(text, f).not.toMatch(/^import (?!type )[^;]*from '@aws-sdk\/client-(ec2|cloudwatch-logs)'/m);
    }
  });
});

describe('hostile EKS documents', () => {
  it('any eks/ec2 document or audit log replaced by hostile content: a diagnosis, or an error naming that file', async () => {
    const files = [
      ...['instances', 'security-groups', 'subnets', 'network-acls', 'route-tables', 'nat-gateways'].map(
        (f) => ['eks-sg-missing-443', `eks/ec2/${f}.json`] as const,
      ),
      ['eks-audit-configmap', 'eks/audit.jsonl'] as const,
      ['eks-audit-configmap', 'eks/cluster.json'] as const,
    ];
    const content = fc.oneof(
      fc.json({ maxDepth: 6 }),
      fc.array(fc.json({ maxDepth: 4 }), { maxLength: 4 }).map((lines) => lines.join('\n')),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc
        .anything()
        .map((v) => JSON.stringify({ SecurityGroups: [v], Subnets: v, NetworkAcls: [v] }) ?? 'null'),
      fc.anything().map(
        (v) =>
          JSON.stringify({
            kind: 'Event',
            apiVersion: 'audit.k8s.io/v1',
            verb: 'patch',
            user: v,
            objectRef: v,
          }) ?? 'null',
      ),
      fc.constantFrom(
        '',
        '{',
        '[]',
        'null',
        '{"Reservations":[{"Instances":[{}]}]}',
        '{"RouteTables":[{"RouteTableId":"r","Routes":[{"DestinationCidrBlock":"x/99"}]}]}',
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...files), content, async ([bundle, rel], text) => {
        const copy = await copyExample(bundle);
        try {
          await writeFile(path.join(copy.dir, rel), text);
          try {
            const d = await diagnoseDir(copy.dir);
            expect(['pass', 'warn', 'fail', 'unknown', 'skip']).toContain(findingOf(d, 'eks.network').status);
          } catch (error) {
            expect(error).toBeInstanceOf(KproxyError);
            expect((error as Error).message).toContain(rel);
          }
        } finally {
          await copy.cleanup();
        }
      }),
      { numRuns: 60 },
    );
  });
});
