/**
 * Plans and performs the remediation actions. Each action plans from the cluster's current
 * state (re-validating the target: it still exists and is still in the state the request
 * was made for) and returns the exact writes — shown as the dry-run preview, and planned
 * again, then executed, when the approval is reached.
 */
import { statusCauses } from '../cluster/live/kube-errors.js';
import type { Fetched, KubeHttp } from '../cluster/live/kube-http.js';
import {
  type ActionTarget,
  type EksAddonWrite,
  type ExecutionContext,
  type KubeWrite,
  type Plan,
  refused,
} from './plan.js';
import { planDrain } from './plans/drain.js';
import { planAddonUpdate } from './plans/eks-addon.js';
import { planDeletePod, planRestart, planSwitchToIpvs } from './plans/kube-proxy.js';
import { planCordon } from './plans/nodes.js';
import { waitForPodsGone, waitForRollout } from './waits.js';

export type { ActionTarget, ExecutionContext, Plan } from './plan.js';

export async function planAction(
  ctx: ExecutionContext,
  target: ActionTarget,
  now: () => Date = () => new Date(),
): Promise<Fetched<Plan>> {
  const plan = await planFor(ctx, target, now);
  return plan.ok && target.node ? { ok: true, value: { ...plan.value, node: target.node } } : plan;
}

function planFor(
  ctx: ExecutionContext,
  target: ActionTarget,
  now: () => Date,
): Promise<Fetched<Plan>> | Fetched<Plan> {
  if (target.blockedBy) return refused(target.blockedBy);
  const { http } = ctx;
  switch (target.action) {
    case 'restart-kube-proxy':
      return planRestart(http, now);
    case 'delete-kube-proxy-pod':
      return target.node ? planDeletePod(http, target.node) : refused('delete-kube-proxy-pod needs a node');
    case 'cordon-node':
      return target.node ? planCordon(http, target.node) : refused('cordon-node needs a node');
    case 'drain-node':
      return target.node
        ? planDrain(http, target.node, { acceptEmptyDirDataLoss: target.acceptEmptyDirDataLoss ?? false })
        : refused('drain-node needs a node');
    case 'update-kube-proxy-addon':
      return planAddonUpdate(ctx);
    case 'switch-kube-proxy-mode-ipvs':
      return planSwitchToIpvs(ctx, now);
  }
}

/** The Kubernetes identity writes are made as (the approving human), when configured. */
export interface Impersonation {
  readonly user: string;
  readonly groups: readonly string[];
}

export interface ExecuteOptions {
  /** How often an eviction refused by a PodDisruptionBudget (429) is tried again. */
  readonly evictionRetries?: number;
  readonly evictionRetryDelayMs?: number;
  /**
   * The bound on waiting for a DaemonSet rollout (default: scaled with the node count), an
   * EKS add-on update (600_000) or evicted pods to be gone (300_000).
   */
  readonly settleTimeoutMs?: number;
  /** A rollout with no progress for this long is reported as blocked. @defaultValue 300_000 */
  readonly stallTimeoutMs?: number;
  readonly pollIntervalMs?: number;
  /** Makes a retried EKS call the same call (the approval id). */
  readonly idempotencyKey?: string;
}

export interface ExecuteResult {
  readonly ok: boolean;
  readonly done: string[];
  readonly error?: string;
}

/**
 * Performs a plan's writes in order; stops at the first refusal and says what was done.
 * Evictions are the exception: one blocked by a PodDisruptionBudget is retried (as
 * `kubectl drain` does) and, if still blocked, reported while the rest go on. Then waits,
 * with a bound, for the rollout when the plan says so.
 */
export async function executePlan(
  ctx: ExecutionContext,
  plan: Plan,
  as?: Impersonation,
  options: ExecuteOptions = {},
): Promise<ExecuteResult> {
  const retries = options.evictionRetries ?? 5;
  const delayMs = options.evictionRetryDelayMs ?? 5000;
  const blocked: string[] = [];
  const headers: Record<string, string | readonly string[]> = as
    ? { 'Impersonate-User': as.user, ...(as.groups.length > 0 ? { 'Impersonate-Group': as.groups } : {}) }
    : {};
  const done: string[] = [];
  for (const write of plan.writes) {
    if (write.kind === 'eks-update-addon') {
      const updated = await updateAddon(ctx, write, options);
      if (!updated.ok) return { ok: false, done, error: `${write.describe}: ${updated.reason}` };
      done.push(`${write.describe}: ${updated.value}`);
      continue;
    }
    const isEviction = write.path.endsWith('/eviction');
    let res = await sendWrite(ctx.http, write, headers);
    let refusedFirst: typeof res | undefined;
    for (let attempt = 0; isEviction && !res.ok && res.status === 429 && attempt < retries; attempt++) {
      refusedFirst ??= res;
      await sleep(delayMs);
      res = await sendWrite(ctx.http, write, headers);
    }
    // A pod already gone is evicted (drain.go evictPods: NotFound counts as done).
    if (!res.ok && isEviction && res.status === 404) {
      done.push(`${write.describe}: already gone`);
      continue;
    }
    if (!res.ok && isEviction && res.status === 429) {
      blocked.push(`${write.describe}: ${stillRefused(res, retries + 1)}`);
      continue;
    }
    if (!res.ok)
      return {
        ok: false,
        done,
        error: `${write.describe}: ${as && res.status === 403 ? impersonatedRefusal(as, res.reason) : res.reason}`,
      };
    done.push(
      refusedFirst && !refusedFirst.ok
        ? `${write.describe} (${admittedLater(refusedFirst)})`
        : write.describe,
    );
  }
  if (blocked.length > 0) return { ok: false, done, error: blocked.join('; ') };
  if (plan.waitsForEvictions && plan.waitsForEvictions.length > 0) {
    const gone = await waitForPodsGone(ctx.http, plan.waitsForEvictions, options);
    if (!gone.ok) return { ok: false, done, error: gone.reason };
    done.push(gone.value);
  }
  if (plan.waitsForRollout) {
    const rollout = await waitForRollout(ctx.http, options, plan.node);
    if (!rollout.ok) return { ok: false, done, error: rollout.reason };
    done.push(rollout.value);
  }
  return { ok: true, done };
}

function sendWrite(
  http: KubeHttp,
  write: KubeWrite,
  headers: Record<string, string | readonly string[]>,
): Promise<Fetched<string>> {
  const call = {
    verb: write.method === 'PATCH' ? 'patch' : write.method === 'POST' ? 'create' : 'delete',
    resource: resourceOf(write.path),
    namespace: namespaceOf(write.path),
  };
  return http.send(
    write.method,
    write.path,
    write.body ?? { apiVersion: 'v1', kind: 'DeleteOptions' },
    call,
    write.contentType ?? 'application/json',
    headers,
  );
}

/** UpdateAddon, then DescribeUpdate until EKS says it finished (bounded). */
async function updateAddon(
  ctx: ExecutionContext,
  write: EksAddonWrite,
  options: ExecuteOptions,
): Promise<Fetched<string>> {
  if (!ctx.eks) return refused('this cluster is not an EKS cluster');
  const started = await ctx.eks.updateAddon(write.input, options.idempotencyKey ?? `kproxy-${Date.now()}`);
  if (!started.ok) return started;
  const deadline = Date.now() + (options.settleTimeoutMs ?? 600_000);
  for (;;) {
    const state = await ctx.eks.updateStatus(started.value.updateId, write.input.addonName);
    if (!state.ok) return state;
    if (state.value.status === 'Successful')
      return { ok: true, value: `EKS update ${started.value.updateId} Successful` };
    if (state.value.status === 'Failed' || state.value.status === 'Cancelled')
      return refused(
        `EKS update ${started.value.updateId} ${state.value.status}${state.value.errors.length ? `: ${state.value.errors.join('; ')}` : ''}`,
      );
    if (Date.now() > deadline)
      return refused(
        `EKS update ${started.value.updateId} still ${state.value.status} after the wait bound; follow it with aws eks describe-update`,
      );
    await sleep(options.pollIntervalMs ?? 10_000);
  }
}

/**
 * An eviction still answered 429: the PodDisruptionBudget that blocks it, named as the
 * apiserver names it (pkg/registry/core/pod/storage/eviction.go checkAndDecrement: a
 * `DisruptionBudget` cause, "The disruption budget web needs 2 healthy pods and has 2
 * currently"); a 429 without that cause may not be a budget (API Priority and Fairness
 * throttles with 429 too), so its own message is shown.
 */
function stillRefused(res: { reason: string; body?: string }, tries: number): string {
  const budgets = statusCauses(res.body, 'DisruptionBudget');
  return budgets.length > 0
    ? `still refused by a PodDisruptionBudget after ${tries} tries: ${budgets.join('; ')}`
    : `still refused after ${tries} tries: ${res.reason}`;
}

/**
 * A write made as the approver and refused (403): whose right was missing. The apiserver
 * first authorizes kproxy's own identity to impersonate the user and each group
 * (endpoints/filters/impersonation.go, verb `impersonate`), then the approver for the write.
 */
function impersonatedRefusal(as: Impersonation, reason: string): string {
  const who = `${as.user}${as.groups.length > 0 ? ` (groups ${as.groups.join(', ')})` : ''}`;
  return /^forbidden: impersonate /.test(reason)
    ? `kproxy's own identity may not act as ${who}: ${reason}`
    : `the cluster refused the approver's identity ${who}: ${reason}`;
}

/** An eviction admitted on a retry: what refused it first (kubectl drain logs the same: "will retry"). */
function admittedLater(first: { reason: string; body?: string }): string {
  const budgets = statusCauses(first.body, 'DisruptionBudget');
  return `admitted on a retry; first refused: ${budgets.length > 0 ? budgets.join('; ') : first.reason}`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function resourceOf(path: string): string {
  if (path.includes('/daemonsets/')) return 'daemonsets.apps';
  if (path.includes('/configmaps/')) return 'configmaps';
  if (path.endsWith('/eviction')) return 'pods/eviction';
  if (path.includes('/pods/')) return 'pods';
  return 'nodes';
}

function namespaceOf(path: string): string | undefined {
  return /\/namespaces\/([^/]+)\//.exec(path)?.[1];
}
