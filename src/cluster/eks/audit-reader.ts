/**
 * Reads the EKS control-plane audit log (CloudWatch Logs group `/aws/eks/<cluster>/cluster`,
 * streams `kube-apiserver-audit-*`) around the incident into `eks/audit.jsonl`: only
 * changes (create/update/patch/delete) to the target Service, its EndpointSlices and
 * kube-proxy's ConfigMap/DaemonSet, selected server-side by a JSON filter pattern, in a
 * bounded window and a bounded number of pages. `@aws-sdk/client-cloudwatch-logs` is
 * imported only here, on first use.
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { auditLogFile } from '../bundle/eks-extras.js';
import type { MemoryBundle } from '../bundle/memory.js';
import type { Target } from '../view.js';
import { eksLoggingSchema } from './ec2-types.js';
import { awsFailure } from './network-reader.js';

export interface AuditReadOptions {
  readonly cluster: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  readonly endpoint?: string | undefined;
  /** The end of the window (the cluster's clock when known). */
  readonly until: Date;
}

/** How far back the audit log is searched. */
export const auditWindowMs = 3 * 3600 * 1000;
/** FilterLogEvents pages and events read at most (each page up to 1,000 events). */
export const auditLimits = { pages: 10, events: 5000, pageSize: 1000 } as const;

export function auditLoggingEnabled(rawCluster: unknown): boolean {
  const logging = eksLoggingSchema().safeParse((rawCluster as { logging?: unknown } | null)?.logging ?? {});
  return (
    logging.success &&
    (logging.data.clusterLogging ?? []).some((l) => l.enabled === true && (l.types ?? []).includes('audit'))
  );
}

/** The server-side selection: mutating verbs on the objects the diagnosis is about. */
export function auditFilterPattern(target: Target): string {
  const verbs = ['create', 'update', 'patch', 'delete'].map((v) => `$.verb = "${v}"`).join(' || ');
  const kubeProxy =
    '($.objectRef.namespace = "kube-system" && $.objectRef.name = "kube-proxy*" && ($.objectRef.resource = "configmaps" || $.objectRef.resource = "daemonsets"))';
  const service = target.service
    ? ` || ($.objectRef.namespace = "${target.namespace ?? 'default'}" && $.objectRef.name = "${target.service}*" && ($.objectRef.resource = "services" || $.objectRef.resource = "endpointslices"))`
    : '';
  return `{ (${verbs}) && (${kubeProxy}${service}) }`;
}

export async function readAuditInto(
  bundle: MemoryBundle,
  options: AuditReadOptions,
  rawCluster: unknown,
  target: Target,
): Promise<void> {
  if (!auditLoggingEnabled(rawCluster)) {
    bundle.set(auditLogFile, {
      missing:
        'control-plane audit logging is off (DescribeCluster logging.clusterLogging has no enabled "audit")',
    });
    return;
  }
  const sdk = await import('@aws-sdk/client-cloudwatch-logs');
  const client = new sdk.CloudWatchLogsClient({
    region: options.region,
    credentials: options.credentials,
    maxAttempts: 3,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  const lines: string[] = [];
  try {
    let nextToken: string | undefined;
    for (let page = 0; page < auditLimits.pages && lines.length < auditLimits.events; page++) {
      const out = await client.send(
        new sdk.FilterLogEventsCommand({
          logGroupName: `/aws/eks/${options.cluster}/cluster`,
          logStreamNamePrefix: 'kube-apiserver-audit',
          startTime: options.until.getTime() - auditWindowMs,
          endTime: options.until.getTime(),
          filterPattern: auditFilterPattern(target),
          limit: auditLimits.pageSize,
          nextToken,
        }),
      );
      for (const e of out.events ?? []) if (e.message) lines.push(e.message.trim());
      nextToken = out.nextToken;
      if (!nextToken) break;
    }
  } catch (error) {
    bundle.set(auditLogFile, { missing: awsFailure('logs:FilterLogEvents', error) });
    return;
  } finally {
    client.destroy();
  }
  bundle.set(auditLogFile, {
    content: lines.length ? `${lines.slice(0, auditLimits.events).join('\n')}\n` : '',
  });
}
