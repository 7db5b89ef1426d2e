/** Options shared by the commands that talk to a live cluster (diagnose --context, collect). */
import { KubeConfig } from '@kubernetes/client-node';
import { LiveSource } from '../cluster/live/live-source.js';
import { type NodeCaptureMode, nodeCaptureModes } from '../cluster/live/node-captures.js';
import { UsageError } from '../errors.js';

export const liveOptionSpecs = {
  context: { type: 'string' },
  kubeconfig: { type: 'string' },
  'node-captures': { type: 'string' },
  'debug-image': { type: 'string' },
  'debug-namespace': { type: 'string' },
  'request-timeout': { type: 'string' },
} as const;

export const liveOptionsUsage = `  --context CTX        kubeconfig context of the cluster
  --kubeconfig FILE    kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
  --node-captures M    off | exec (default: iptables-save/nft in the node's kube-proxy pod)
                       | debug-pod (a short-lived privileged pod on the node runs every capture)
  --debug-image IMG    image of the capture pod (default: nicolaka/netshoot)
  --debug-namespace NS namespace of the capture pod (default: kube-system)
  --request-timeout S  seconds per API request (default: 10)`;

export interface LiveOptionValues {
  context?: string | undefined;
  kubeconfig?: string | undefined;
  'node-captures'?: string | undefined;
  'debug-image'?: string | undefined;
  'debug-namespace'?: string | undefined;
  'request-timeout'?: string | undefined;
}

export function liveSourceFrom(values: LiveOptionValues, onProgress?: (step: string) => void): LiveSource {
  const mode = (values['node-captures'] ?? 'exec') as NodeCaptureMode;
  if (!nodeCaptureModes.includes(mode))
    throw new UsageError(
      `--node-captures "${values['node-captures']}": expected one of ${nodeCaptureModes.join(', ')}`,
    );
  const timeout = values['request-timeout'] === undefined ? 10 : Number(values['request-timeout']);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 300)
    throw new UsageError(
      `--request-timeout "${values['request-timeout']}": expected seconds between 1 and 300`,
    );
  const kc = new KubeConfig();
  try {
    if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
    else kc.loadFromDefault();
  } catch (error) {
    throw new UsageError(
      `cannot load kubeconfig ${values.kubeconfig ?? '(default)'}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
  const context = values.context ?? kc.getCurrentContext();
  if (!context || !kc.getContextObject(context)) {
    const known = kc.getContexts().map((c) => c.name);
    throw new UsageError(
      `context "${context ?? ''}" not found in ${values.kubeconfig ?? 'the kubeconfig'}${known.length ? ` (contexts: ${known.join(', ')})` : ''}`,
    );
  }
  kc.setCurrentContext(context);
  return new LiveSource({
    kubeConfig: kc,
    clusterName: context,
    nodeCaptures: mode,
    debugPod: {
      ...(values['debug-image'] ? { image: values['debug-image'] } : {}),
      ...(values['debug-namespace'] ? { namespace: values['debug-namespace'] } : {}),
    },
    http: { timeoutMs: timeout * 1000 },
    ...(onProgress ? { onProgress } : {}),
  });
}
