/**
 * A ClusterSource builds a ClusterView. Bundles and live clusters implement it; the
 * engine never sees which one it got.
 */
import type { ClusterView, Target } from './view.js';

export interface LoadRequest {
  /** Overrides of the source's default target (a bundle's own `target`). */
  readonly target?: Target;
  /** Ignore any default target: kube-proxy health across the cluster (or `target.node`). */
  readonly clusterWide?: boolean;
}

export interface ClusterSource {
  /** Human-readable origin, e.g. `bundle examples/bundles/healthy`. */
  readonly description: string;
  load(request?: LoadRequest): Promise<ClusterView>;
  /** Releases temporary files or connections. Safe to call twice. */
  close(): Promise<void>;
}
