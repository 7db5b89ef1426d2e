/** The EKS kube-proxy add-on: update to the control plane's version, or configure IPVS mode. */
import { parse as parseYaml } from 'yaml';
import type { Fetched } from '../../cluster/live/kube-http.js';
import type { EksAddonApi, ExecutionContext, KubeWrite, Plan } from '../plan.js';
import { refused } from '../plan.js';

const addonName = 'kube-proxy';
/** An add-on in these states is being changed by someone else (or EKS): do not stack a change. */
const busy = new Set(['CREATING', 'UPDATING', 'DELETING']);

export async function planAddonUpdate(ctx: ExecutionContext): Promise<Fetched<Plan>> {
  const eks = ctx.eks;
  if (!eks)
    return refused(
      'update-kube-proxy-addon needs an EKS cluster (this one is configured by kubeconfig): set the kube-proxy DaemonSet image to the control plane minor version by hand',
    );
  const [controlPlane, addon] = await Promise.all([eks.controlPlaneVersion(), eks.addon(addonName)]);
  if (!controlPlane.ok) return controlPlane;
  if (!addon.ok) return addon;
  if (!addon.value)
    return refused(
      `kube-proxy on ${eks.clusterName} is self-managed, not an EKS add-on: update the DaemonSet image, or adopt the add-on (aws eks create-addon --addon-name kube-proxy)`,
    );
  if (busy.has(addon.value.status))
    return refused(`the kube-proxy add-on is ${addon.value.status}; wait for it`);
  const current = addon.value.version;
  if (minorOf(current) > minorOf(controlPlane.value))
    return refused(
      `the kube-proxy add-on (${current}) is newer than the control plane (${controlPlane.value}) and EKS cannot downgrade add-ons: upgrade the control plane, or recreate the add-on at a matching version`,
    );
  const wanted = await eks.defaultAddonVersion(addonName, controlPlane.value);
  if (!wanted.ok) return wanted;
  if (!wanted.value)
    return refused(`EKS lists no kube-proxy add-on version for Kubernetes ${controlPlane.value}`);
  if (wanted.value === current)
    return refused(
      `the kube-proxy add-on is already at ${current}, the default for Kubernetes ${controlPlane.value}`,
    );
  return {
    ok: true,
    value: {
      summary: `Update the EKS kube-proxy add-on on ${eks.clusterName} from ${current} to ${wanted.value} (the default for control plane ${controlPlane.value}); EKS rolls the DaemonSet`,
      writes: [
        {
          kind: 'eks-update-addon',
          input: { addonName, addonVersion: wanted.value, resolveConflicts: 'PRESERVE' },
          describe: `EKS UpdateAddon ${eks.clusterName}/kube-proxy addonVersion ${current} → ${wanted.value} (resolveConflicts PRESERVE)`,
        },
      ],
      waitsForRollout: true,
    },
  };
}

/**
 * IPVS through the add-on's configuration values (merged into what is configured now), then
 * a restart so every kube-proxy reads it. `undefined` when kube-proxy is not a managed add-on.
 */
export async function planIpvsThroughAddon(
  eks: EksAddonApi,
  restart: KubeWrite,
): Promise<Fetched<Plan | undefined>> {
  const addon = await eks.addon(addonName);
  if (!addon.ok) return addon;
  if (!addon.value) return { ok: true, value: undefined };
  if (busy.has(addon.value.status))
    return refused(`the kube-proxy add-on is ${addon.value.status}; wait for it`);
  let configured: Record<string, unknown> = {};
  try {
    const parsed: unknown = addon.value.configurationValues ? parseYaml(addon.value.configurationValues) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      configured = parsed as Record<string, unknown>;
  } catch {
    return refused('the kube-proxy add-on configuration values do not parse; fix them by hand first');
  }
  if (configured.mode === 'ipvs') return refused('the kube-proxy add-on is already configured for IPVS');
  const ipvs = (configured.ipvs && typeof configured.ipvs === 'object' ? configured.ipvs : {}) as Record<
    string,
    unknown
  >;
  const values = JSON.stringify({
    ...configured,
    mode: 'ipvs',
    ipvs: { ...ipvs, scheduler: ipvs.scheduler || 'rr' },
  });
  return {
    ok: true,
    value: {
      summary: `Switch kube-proxy to IPVS through the EKS add-on configuration on ${eks.clusterName}, then restart kube-proxy on every node (disruptive; off-hours)`,
      writes: [
        {
          kind: 'eks-update-addon',
          // OVERWRITE, as AWS documents for this change: the add-on's ConfigMap gets the new mode.
          input: {
            addonName,
            addonVersion: addon.value.version,
            configurationValues: values,
            resolveConflicts: 'OVERWRITE',
          },
          describe: `EKS UpdateAddon ${eks.clusterName}/kube-proxy configurationValues ${values} (version ${addon.value.version} unchanged, resolveConflicts OVERWRITE)`,
        },
        restart,
      ],
      waitsForRollout: true,
    },
  };
}

/** `v1.29.3-eksbuild.2` or `1.30` → 29 / 30. */
function minorOf(version: string): number {
  return Number(/^v?\d+\.(\d+)/.exec(version)?.[1] ?? Number.NaN);
}
