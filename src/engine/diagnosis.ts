/**
 * The diagnosis: the contract of `kproxy diagnose --format json` (docs/bundle-format.md).
 * Fields may be added; none are renamed.
 */
import type { ActionId, SafetyRating } from '../approvals/actions.js';
import type { ProxyMode } from '../checks/lib/facts.js';
import type { CheckStatus, Finding, RootCauseCategory } from '../checks/types.js';

/** `UNKNOWN`: an inconclusive diagnosis (the data that decides is missing). */
export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'NONE' | 'UNKNOWN';

/**
 * `decisive`: the data shows a fault, or shows there is none. `inconclusive`: the data
 * that decides the Service path is missing or unreadable and nothing shows a fault.
 */
export type Verdict = 'decisive' | 'inconclusive';

/** A deciding check that lacked its data, and how to collect it. */
export interface MissingData {
  readonly check: string;
  /** What was missing or unreadable (the check's own summary). */
  readonly what: string;
  /** The command or bundle file that provides it. */
  readonly how: string;
}

export interface RankedCause {
  readonly category: RootCauseCategory;
  readonly score: number;
  readonly detail: string;
  readonly nodes: readonly string[];
}

export interface SuggestedAction {
  readonly id: ActionId;
  readonly safety: SafetyRating;
  readonly description: string;
  readonly node?: string;
  /** When to use it, in the runbook's order ("first", "if it persists"). */
  readonly when: string;
  /** A precondition the diagnosis shows unmet: the action is shown but refused. */
  readonly blockedBy?: string;
}

export interface NodeBreakdown {
  readonly node: string;
  readonly status: CheckStatus;
  readonly checks: readonly { check: string; status: CheckStatus; summary: string }[];
}

export interface Diagnosis {
  readonly cluster: string;
  /** `from`: the failing client (`--from NS/NAME`), when one was named. */
  readonly target: {
    namespace: string | null;
    service: string | null;
    node: string | null;
    from?: string | null;
    /** The Ingress or HTTPRoute clients go through (`Ingress app/web-api`), when one was named. */
    route?: string | null;
  };
  readonly observedAt: string;
  readonly origin: string;
  readonly rootCause: { category: RootCauseCategory; detail: string; nodes: readonly string[] };
  readonly ranking: readonly RankedCause[];
  readonly kubeProxy: { mode: ProxyMode; version: string | null };
  readonly severity: Severity;
  readonly verdict: Verdict;
  /** Deciding checks without their data (also on a decisive diagnosis, for completeness). */
  readonly missing: readonly MissingData[];
  /** Where the runbook order stopped the investigation, when it did. */
  readonly stoppedAfter: { phase: string; reason: string } | null;
  readonly findings: readonly Finding[];
  readonly nodes: readonly NodeBreakdown[];
  readonly mitigation: { immediate: string; longTerm: string; actions: readonly SuggestedAction[] };
  readonly crossReference: readonly string[];
}

export interface Progress {
  readonly phase: string;
  readonly done: number;
  readonly total: number;
}
