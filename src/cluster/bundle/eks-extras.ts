/**
 * The optional EKS documents of a bundle beyond DescribeCluster/DescribeAddon:
 * `eks/ec2/*.json` (what `aws ec2 describe-…` prints, for the control-plane path check)
 * and `eks/audit.jsonl` (control-plane audit events, one JSON object per line, as EKS
 * writes them to CloudWatch Logs). A bad document is refused whole, naming the file.
 */
import { type ZodType, z } from 'zod';
import { inWords, pathInWords } from '../../config/problems.js';
import { BundleError } from '../../errors.js';
import { type Collected, collected } from '../collected.js';
import {
  type AuditEvent,
  auditEventSchema,
  type EksNetwork,
  ec2Documents,
  type instanceSchema,
  natGatewaySchema,
  networkAclSchema,
  reservationSchema,
  routeTableSchema,
  securityGroupSchema,
  subnetSchema,
} from '../eks/ec2-types.js';
import type { BundleFiles } from './files.js';
import { allInOrder } from './read-ahead.js';

export const auditLogFile = 'eks/audit.jsonl';

export function ec2File(doc: keyof typeof ec2Documents): string {
  return `eks/ec2/${ec2Documents[doc].file}`;
}

export async function readEksNetwork(dir: BundleFiles): Promise<EksNetwork> {
  const [reservations, securityGroups, subnets, networkAcls, routeTables, natGateways] = await allInOrder([
    readEc2(dir, 'instances', reservationSchema()),
    readEc2(dir, 'securityGroups', securityGroupSchema()),
    readEc2(dir, 'subnets', subnetSchema()),
    readEc2(dir, 'networkAcls', networkAclSchema()),
    readEc2(dir, 'routeTables', routeTableSchema()),
    readEc2(dir, 'natGateways', natGatewaySchema()),
  ]);
  const instances: Collected<z.infer<ReturnType<typeof instanceSchema>>[]> =
    reservations.state === 'missing'
      ? reservations
      : collected(reservations.value.flatMap((r) => r.Instances ?? []));
  return { instances, securityGroups, subnets, networkAcls, routeTables, natGateways };
}

async function readEc2<S extends ZodType>(
  dir: BundleFiles,
  doc: keyof typeof ec2Documents,
  item: S,
): Promise<Collected<z.infer<S>[]>> {
  const { key } = ec2Documents[doc];
  const rel = ec2File(doc);
  const raw = await dir.readJson(rel);
  if (raw.state === 'missing') return raw;
  const parsed = z.looseObject({ [key]: z.array(item) }).safeParse(raw.value, { error: inWords });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BundleError(
      rel,
      `is not what aws ec2 ${doc} prints ({"${key}": [...]}): ${issue ? `${pathInWords(issue.path)}: ${issue.message}` : 'invalid'}`,
    );
  }
  return collected((parsed.data as Record<string, z.infer<S>[]>)[key] ?? []);
}

export async function readEksAudit(dir: BundleFiles): Promise<Collected<readonly AuditEvent[]>> {
  const text = await dir.readText(auditLogFile);
  if (text.state === 'missing') return text;
  const events: AuditEvent[] = [];
  const lines = text.value.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim();
    if (!line) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      throw new BundleError(auditLogFile, `line ${i + 1} is not valid JSON`);
    }
    const parsed = auditEventSchema().safeParse(doc, { error: inWords });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new BundleError(
        auditLogFile,
        `line ${i + 1} is not an audit.k8s.io/v1 Event: ${issue ? `${pathInWords(issue.path)}: ${issue.message}` : 'invalid'}`,
      );
    }
    events.push(parsed.data);
  }
  return collected(events);
}
