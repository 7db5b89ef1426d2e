/**
 * What an approved action will do, as data: the exact writes (shown as the dry-run preview
 * on the approval message, planned again from the cluster's current state before they run)
 * and what to wait for afterwards.
 */
import type { Fetched, KubeHttp } from '../cluster/live/kube-http.js';
import type { ActionId } from './actions.js';

export interface ActionTarget {
  readonly action: ActionId;
  readonly node?: string | undefined;
  /**
   * A precondition the diagnosis found unmet (e.g. IPVS modules missing): planning refuses
   * with this reason.
   */
  readonly blockedBy?: string | undefined;
  /** drain-node: the approver accepted that emptyDir data of evicted pods is lost. */
  readonly acceptEmptyDirDataLoss?: boolean | undefined;
}

/** A write to the Kubernetes API. */
export interface KubeWrite {
  readonly kind?: undefined;
  readonly method: 'PATCH' | 'DELETE' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
  /** The write in words, for the approval message and the audit. */
  readonly describe: string;
}

/** An EKS `UpdateAddon` call; done when EKS reports the update finished (bounded wait). */
export interface EksAddonWrite {
  readonly kind: 'eks-update-addon';
  readonly input: AddonUpdate;
  readonly describe: string;
}

export type PlannedWrite = KubeWrite | EksAddonWrite;

export interface Plan {
  readonly summary: string;
  readonly writes: readonly PlannedWrite[];
  /** After every write succeeded: wait (bounded) for the kube-proxy DaemonSet rollout. */
  readonly waitsForRollout?: boolean;
  /** After the evictions: wait (bounded) until these pods are gone (`kubectl drain`'s waitForDelete). */
  readonly waitsForEvictions?: readonly { namespace: string; name: string; uid?: string | undefined }[];
  /** The node the diagnosis pointed at: a rollout wait says when it is blocked there. */
  readonly node?: string | undefined;
}

export interface AddonUpdate {
  readonly addonName: string;
  readonly addonVersion?: string | undefined;
  readonly configurationValues?: string | undefined;
  readonly resolveConflicts: 'OVERWRITE' | 'PRESERVE' | 'NONE';
}

export interface AddonState {
  readonly version: string;
  readonly status: string;
  readonly configurationValues?: string | undefined;
}

/** The part of the EKS API the add-on actions use (implemented by `EksAccess`). */
export interface EksAddonApi {
  readonly clusterName: string;
  controlPlaneVersion(): Promise<Fetched<string>>;
  /** `undefined` when the add-on is not an EKS managed add-on (self-managed kube-proxy). */
  addon(name: string): Promise<Fetched<AddonState | undefined>>;
  /** The version EKS marks as default for this Kubernetes version, else the newest compatible. */
  defaultAddonVersion(name: string, kubernetesVersion: string): Promise<Fetched<string | undefined>>;
  updateAddon(input: AddonUpdate, idempotencyToken: string): Promise<Fetched<{ updateId: string }>>;
  updateStatus(updateId: string, addonName: string): Promise<Fetched<{ status: string; errors: string[] }>>;
}

/** Where actions run: the cluster's API, and EKS when the cluster is an EKS cluster. */
export interface ExecutionContext {
  readonly http: KubeHttp;
  readonly eks?: EksAddonApi | undefined;
}

export function refused(reason: string): Fetched<never> {
  return { ok: false, status: 0, reason };
}

export const kubeSystem = 'kube-system';
export const strategicMerge = 'application/strategic-merge-patch+json';
export const mergePatch = 'application/merge-patch+json';
