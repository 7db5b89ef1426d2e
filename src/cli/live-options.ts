/** A live cluster from the shared options (diagnose --context, collect): checked, then connected. */
import { KubeConfig } from '@kubernetes/client-node';
import { type ProxyVia, proxyViaModes } from '../cluster/live/kube-proxy-endpoints.js';
import { LiveSource } from '../cluster/live/live-source.js';
import { type NodeCaptureMode, nodeCaptureModes } from '../cluster/live/node-captures.js';
import { type ProbeMode, probeModes } from '../cluster/live/probe-pod.js';
import { UsageError } from '../errors.js';
import { type EksOptionValues, eksProviderFrom } from './eks-options.js';

/** What commander parsed from the live-cluster options (options.ts). */
export interface LiveOptionValues extends EksOptionValues {
  context?: string | undefined;
  kubeconfig?: string | undefined;
  nodeCaptures?: string | undefined;
  debugImage?: string | undefined;
  proxyVia?: string | undefined;
  debugNamespace?: string | undefined;
  probe?: string | undefined;
  probeNamespace?: string | undefined;
  requestTimeout?: string | undefined;
}

export function liveSourceFrom(values: LiveOptionValues, onProgress?: (step: string) => void): LiveSource {
  const mode = (values.nodeCaptures ?? 'exec') as NodeCaptureMode;
  if (!nodeCaptureModes.includes(mode))
    throw new UsageError(
      `--node-captures "${values.nodeCaptures}": expected one of ${nodeCaptureModes.join(', ')}`,
    );
  const proxyVia = (values.proxyVia ?? 'nodes') as ProxyVia;
  if (!proxyViaModes.includes(proxyVia))
    throw new UsageError(`--proxy-via "${values.proxyVia}": expected one of ${proxyViaModes.join(', ')}`);
  const probe = (values.probe ?? 'off') as ProbeMode;
  if (!probeModes.includes(probe))
    throw new UsageError(`--probe "${values.probe}": expected one of ${probeModes.join(', ')}`);
  if (values.probeNamespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(values.probeNamespace))
    throw new UsageError(`--probe-namespace "${values.probeNamespace}": not a namespace name`);
  const provider = eksProviderFrom(values);
  const timeout = values.requestTimeout === undefined ? 10 : Number(values.requestTimeout);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 300)
    throw new UsageError(`--request-timeout "${values.requestTimeout}": expected seconds between 1 and 300`);
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
    proxyVia,
    debugPod: {
      ...(values.debugImage ? { image: values.debugImage } : {}),
      ...(values.debugNamespace ? { namespace: values.debugNamespace } : {}),
    },
    probe: {
      mode: probe,
      ...(values.probeNamespace ? { namespace: values.probeNamespace } : {}),
      ...(values.debugImage ? { image: values.debugImage } : {}),
    },
    http: { timeoutMs: timeout * 1000 },
    ...(provider ? { provider } : {}),
    ...(onProgress ? { onProgress } : {}),
  });
}
