/**
 * The remediation actions kproxy can offer, with the safety ratings of the runbooks
 * (`shared/sop`, "safety_ratings") and `docs/safety.md`. Every diagnostic read is GREEN;
 * every action here needs a second person's approval before it runs.
 */
export type SafetyRating = 'GREEN' | 'YELLOW' | 'RED';

export type ActionId =
  | 'restart-kube-proxy'
  | 'delete-kube-proxy-pod'
  | 'cordon-node'
  | 'update-kube-proxy-addon'
  | 'drain-node'
  | 'switch-kube-proxy-mode-ipvs';

export interface ActionSpec {
  readonly id: ActionId;
  readonly safety: Exclude<SafetyRating, 'GREEN'>;
  /** `node` actions need a node as their target. */
  readonly scope: 'cluster' | 'node';
  readonly description: string;
}

export const actionCatalog: Readonly<Record<ActionId, ActionSpec>> = {
  'restart-kube-proxy': {
    id: 'restart-kube-proxy',
    safety: 'YELLOW',
    scope: 'cluster',
    description:
      'Rollout-restart the kube-proxy DaemonSet (kubectl -n kube-system rollout restart ds/kube-proxy)',
  },
  'delete-kube-proxy-pod': {
    id: 'delete-kube-proxy-pod',
    safety: 'YELLOW',
    scope: 'node',
    description: 'Delete the kube-proxy pod on the node so the DaemonSet recreates it and resyncs all rules',
  },
  'cordon-node': {
    id: 'cordon-node',
    safety: 'YELLOW',
    scope: 'node',
    description: 'Cordon the node so no new pods are scheduled there',
  },
  'update-kube-proxy-addon': {
    id: 'update-kube-proxy-addon',
    safety: 'YELLOW',
    scope: 'cluster',
    description: 'Update the EKS kube-proxy add-on to the version matching the control plane',
  },
  'drain-node': {
    id: 'drain-node',
    safety: 'RED',
    scope: 'node',
    description: 'Cordon and drain the node (evictions honour PodDisruptionBudgets) so it can be replaced',
  },
  'switch-kube-proxy-mode-ipvs': {
    id: 'switch-kube-proxy-mode-ipvs',
    safety: 'RED',
    scope: 'cluster',
    description: 'Switch kube-proxy from iptables to IPVS mode (disruptive; off-hours)',
  },
};
