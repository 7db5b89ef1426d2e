/**
 * Example incidents for issue 18 (parts 2 and 3): the EKS node → control-plane path
 * (runbook 000 §7, root causes C and D) and control-plane audit-log correlation (D8 2G).
 * Built on the base scenarios; the EC2 and audit documents come from eks-docs.ts.
 */

import { auditEvent } from './eks-audit-docs.js';
import {
  aclEntry,
  clusterSg,
  defaultAcl,
  defaultClusterSg,
  type Ec2State,
  ec2Files,
  healthyEc2,
  natPublicIp,
  networkAcl,
  rule,
  securityGroup,
  subnets,
} from './eks-docs.js';
import { at } from './logs.js';
import { collectedAt, kubeProxyPodOf, type Model, nodeNames } from './model.js';
import { type Scenario, scenarios } from './scenarios.js';
import type { PostRenderScenario } from './scenarios-verdicts.js';

const [, n2] = nodeNames;
const ago = (seconds: number) => at(collectedAt, -seconds);
const endpointHost = '8F3C2B1A9D7E6F5A4B3C2D1E0F9A8B7C.gr7.us-east-1.eks.amazonaws.com';

function base(name: string): Model {
  const s = scenarios.find((x: Scenario) => x.name === name);
  if (!s) throw new Error(`no scenario ${name}`);
  return s.build();
}

/**
 * The api-unauthorized incident (stale rules on the target node after it lost its
 * watch), with the watch failing on the network instead: client-go's reflector lines
 * (k8s.io/client-go tools/cache/reflector.go) with a dial error (net.OpError text).
 */
function watchTimesOut(name: string, endpointIp: string): Model {
  const m = base('api-unauthorized');
  m.scenario = name;
  m.awsNodeEnv = m.awsNodeEnv.filter((e) => e.name !== 'POD_SECURITY_GROUP_ENFORCING_MODE');
  const kp = kubeProxyPodOf(m, n2);
  kp.logEvents = [];
  const url = `https://${endpointHost}/apis/discovery.k8s.io/v1/endpointslices?labelSelector=%21service.kubernetes.io%2Fheadless%2C%21service.kubernetes.io%2Fservice-proxy-name&limit=500&resourceVersion=0`;
  for (let t = 1750; t > 5; t -= 57) {
    const dial = `Get "${url}": dial tcp ${endpointIp}:443: i/o timeout`;
    kp.logEvents.push(
      {
        at: ago(t),
        severity: 'W',
        source: 'reflector.go:547',
        message: `k8s.io/client-go/informers/factory.go:160: failed to list *v1.EndpointSlice: ${dial}`,
      },
      {
        at: ago(t - 0.001),
        severity: 'E',
        source: 'reflector.go:150',
        message: `k8s.io/client-go/informers/factory.go:160: Failed to watch *v1.EndpointSlice: failed to list *v1.EndpointSlice: ${dial}`,
      },
    );
  }
  return m;
}

/** Writes the EC2 documents and adjusts eks/cluster.json after rendering. */
function withEks(
  m: Model,
  state: Ec2State,
  vpc: Record<string, unknown> = {},
  extra?: (files: Map<string, string>) => void,
): Model {
  m.postRender = (files) => {
    for (const [file, doc] of ec2Files(state))
      files.set(`eks/ec2/${file}`, `${JSON.stringify(doc, null, 4)}\n`);
    const cluster = JSON.parse(files.get('eks/cluster.json') ?? '{}') as { cluster: Record<string, unknown> };
    cluster.cluster.resourcesVpcConfig = {
      ...(cluster.cluster.resourcesVpcConfig as Record<string, unknown>),
      publicAccessCidrs: ['0.0.0.0/0'],
      ...vpc,
    };
    cluster.cluster.logging = {
      clusterLogging: [
        { types: ['api', 'audit', 'authenticator'], enabled: true },
        { types: ['controllerManager', 'scheduler'], enabled: false },
      ],
    };
    files.set('eks/cluster.json', `${JSON.stringify(cluster, null, 4)}\n`);
    extra?.(files);
  };
  return m;
}

const gpuNodes = 'sg-0d4e5f60718293a4b';

export const eksScenarios: PostRenderScenario[] = [
  {
    name: 'eks-sg-missing-443',
    summary:
      'A self-managed node group (the target node) runs with its own security group, which the cluster security group does not admit on 443: kube-proxy there times out listing EndpointSlices and its rules go stale (runbook 000 root cause C). The path check names the group and its rules.',
    expected: {
      category: 'api_connectivity',
      nodes: [n2],
      evidence: [`no inbound rule of ${clusterSg}`, 'TCP 443', 'i/o timeout'],
    },
    build() {
      const state = healthyEc2();
      state.nodeGroups[1] = [gpuNodes];
      state.securityGroups.push(
        securityGroup(
          gpuNodes,
          'nodes-gpu',
          [
            rule('tcp', 10250, 10250, { group: clusterSg, description: 'kubelet from the control plane' }),
            rule('-1', undefined, undefined, { group: gpuNodes }),
          ],
          [rule('-1', undefined, undefined, { cidr: '0.0.0.0/0' })],
        ),
      );
      return withEks(watchTimesOut('eks-sg-missing-443', '10.0.1.250'), state);
    },
  },
  {
    name: 'eks-nacl-ephemeral',
    summary:
      "A hardening change to the target node's subnet ACL denies inbound TCP 1024-65535: the API server's replies to kube-proxy (on ephemeral ports) are dropped, its watches time out and its rules go stale. Security groups are fine; the ACL rule is quoted.",
    expected: {
      category: 'api_connectivity',
      nodes: [n2],
      evidence: ['inbound rule 90 deny tcp 1024-65535', 'ephemeral'],
    },
    build() {
      const state = healthyEc2();
      const [a, b, c] = subnets.map((s): string => s.SubnetId);
      state.networkAcls = [
        defaultAcl([a ?? '', c ?? '']),
        networkAcl(
          'acl-0b1c2d3e4f5a6b7c8',
          [b ?? ''],
          [
            aclEntry(100, true, 'allow', '-1', '0.0.0.0/0'),
            aclEntry(90, false, 'deny', '6', '0.0.0.0/0', [1024, 65535]),
            aclEntry(100, false, 'allow', '-1', '10.0.0.0/16'),
          ],
        ),
      ];
      return withEks(watchTimesOut('eks-nacl-ephemeral', '10.0.1.250'), state);
    },
  },
  {
    name: 'eks-public-cidrs-nat',
    summary:
      "Private endpoint access is off and publicAccessCidrs was narrowed to the office range: the nodes reach the public endpoint through the NAT gateway's address, which the list no longer admits, so kube-proxy's watches time out (runbook 000 root cause D).",
    expected: {
      category: 'api_connectivity',
      nodes: [n2],
      evidence: [natPublicIp, 'publicAccessCidrs [203.0.113.0/24]'],
    },
    build() {
      const state = healthyEc2();
      state.securityGroups = [defaultClusterSg()];
      return withEks(watchTimesOut('eks-public-cidrs-nat', '52.20.183.97'), state, {
        endpointPublicAccess: true,
        endpointPrivateAccess: false,
        publicAccessCidrs: ['203.0.113.0/24'],
      });
    },
  },
  {
    name: 'eks-audit-configmap',
    summary:
      'The kube-proxy-config crash loop, with the control-plane audit log collected: the ConfigMap was patched by the ci-deployer role 4 minutes before the first BackOff. The timeline and the root cause name who changed it; EndpointSlice churn by the controller and reads are left out.',
    expected: {
      category: 'pod_crash',
      nodes: [n2],
      evidence: [
        'ConfigMap kube-system/kube-proxy-config patched by arn:aws:iam::123456789012:role/ci-deployer 4 min before the first kube-proxy failure',
      ],
    },
    build() {
      const m = base('kube-proxy-crashloop');
      m.scenario = 'eks-audit-configmap';
      const ci = {
        username: 'arn:aws:sts::123456789012:assumed-role/ci-deployer/1795333567',
        groups: ['ci:deployers', 'system:authenticated'],
        role: 'ci-deployer',
        session: '1795333567',
      };
      const controller = {
        username: 'system:serviceaccount:kube-system:endpointslice-controller',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
      };
      const kubeProxy = {
        username: 'system:serviceaccount:kube-system:kube-proxy',
        groups: ['system:serviceaccounts', 'system:authenticated'],
      };
      const kubectl = 'kubectl/v1.30.5 (linux/amd64) kubernetes/74e84a9';
      const cm = { resource: 'configmaps', namespace: 'kube-system', name: 'kube-proxy-config' };
      const lines = [
        auditEvent({
          ...cm,
          at: ago(1740.2),
          verb: 'patch',
          user: ci,
          userAgent: kubectl,
          stage: 'RequestReceived',
          id: 'b3c1e1f2-4a77-4c1e-9d3e-0f6a1c2b3d41',
        }),
        auditEvent({
          ...cm,
          at: ago(1740),
          verb: 'patch',
          user: ci,
          userAgent: kubectl,
          id: 'b3c1e1f2-4a77-4c1e-9d3e-0f6a1c2b3d41',
        }),
        auditEvent({
          ...cm,
          at: ago(1500),
          verb: 'get',
          user: kubeProxy,
          userAgent: 'kube-proxy/v1.30.6 (linux/amd64) kubernetes/ba0a3b4',
          id: 'c1d2e3f4-0a1b-4c2d-8e3f-4a5b6c7d8e90',
        }),
        auditEvent({
          resource: 'configmaps',
          namespace: 'kube-system',
          name: 'coredns',
          at: ago(2900),
          verb: 'patch',
          user: ci,
          userAgent: kubectl,
          id: 'd4e5f6a7-1b2c-4d3e-9f4a-5b6c7d8e9f01',
        }),
        ...[1320, 610].map((t, i) =>
          auditEvent({
            resource: 'endpointslices',
            apiGroup: 'discovery.k8s.io',
            namespace: 'app',
            name: 'web-api-x2fzk',
            at: ago(t),
            verb: 'update',
            user: controller,
            userAgent:
              'kube-controller-manager/v1.30.6 (linux/amd64) kubernetes/7f9249a/system:serviceaccount:kube-system:endpointslice-controller',
            id: `e5f6a7b8-2c3d-4e4f-8a5b-6c7d8e9f0a1${i}`,
          }),
        ),
      ];
      return withEks(m, healthyEc2(), {}, (files) => files.set('eks/audit.jsonl', `${lines.join('\n')}\n`));
    },
  },
];
