/**
 * Control-plane audit events as EKS writes them to CloudWatch Logs (audit.k8s.io/v1
 * Event, k8s.io/apiserver pkg/apis/audit/v1/types.go; `user.extra` as aws-iam-authenticator
 * fills it: arn, canonicalArn, sessionName, accessKeyId, principalId).
 */
import { account } from './eks-docs.js';

/** One audit event, as one line of a kube-apiserver-audit log stream. */
export function auditEvent(e: {
  at: string;
  verb: string;
  resource: string;
  namespace: string;
  name: string;
  apiGroup?: string;
  user: { username: string; groups: string[]; role?: string; session?: string };
  userAgent: string;
  code?: number;
  stage?: string;
  id: string;
}): string {
  const received = new Date(Date.parse(e.at) - 11).toISOString().replace('Z', '120Z');
  const extra = e.user.role
    ? {
        accessKeyId: ['ASIAQEXAMPLE7KPROXY'],
        arn: [`arn:aws:sts::${account}:assumed-role/${e.user.role}/${e.user.session}`],
        canonicalArn: [`arn:aws:iam::${account}:role/${e.user.role}`],
        principalId: ['AROAQEXAMPLE7KPROXY1'],
        sessionName: [e.user.session ?? ''],
      }
    : undefined;
  const group = e.apiGroup ? `/apis/${e.apiGroup}/v1` : '/api/v1';
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: e.id,
    stage: e.stage ?? 'ResponseComplete',
    requestURI: `${group}/namespaces/${e.namespace}/${e.resource}/${e.name}`,
    verb: e.verb,
    user: {
      username: e.user.username,
      uid: `aws-iam-authenticator:${account}:AROAQEXAMPLE7KPROXY1`,
      groups: e.user.groups,
      ...(extra ? { extra } : {}),
    },
    sourceIPs: ['10.0.1.88'],
    userAgent: e.userAgent,
    objectRef: {
      resource: e.resource,
      namespace: e.namespace,
      name: e.name,
      apiGroup: e.apiGroup,
      apiVersion: 'v1',
    },
    ...(e.stage === 'RequestReceived' ? {} : { responseStatus: { metadata: {}, code: e.code ?? 200 } }),
    requestReceivedTimestamp: received,
    stageTimestamp: new Date(Date.parse(e.at)).toISOString().replace('Z', '904Z'),
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
  });
}
