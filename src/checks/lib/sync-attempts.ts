/**
 * kube-proxy's sync loop read in the order it logs it. kubernetes/kubernetes
 * pkg/proxy/iptables/proxier.go `syncProxyRules` (1.28+; pkg/proxy/nftables the same):
 *
 *   defer … logger.V(2).Info("SyncProxyRules complete", "elapsed", …)   // registered first
 *   logger.V(2).Info("Syncing iptables rules", …)
 *   success := false
 *   defer func() { if !success { logger.Info("Sync failed", "retryingTime", …) } }()
 *   … logger.V(2).Info("Reloading service iptables data", …)            // before the restore
 *   if err := RestoreAll(…); err != nil {
 *       logger.Error(err, "Failed to execute iptables-restore"); IPTablesRestoreFailuresTotal.Inc(); return
 *   }
 *   success = true; healthzServer.Updated(); SyncProxyRulesLastTimestamp.SetToCurrentTime()
 *
 * Deferred calls run last-in first-out, so a failed sync logs "Failed to execute
 * iptables-restore", then "Sync failed", then "SyncProxyRules complete": that last line
 * closes every sync, good or bad, and "Reloading service … data" precedes the restore.
 * Neither proves success. A sync succeeded when it closed without a failure line.
 */
import type { KlogLine } from '../../cluster/parse/klog.js';

/** The line every sync ends with (iptables/nftables V(2); IPVS V(4), lower-case). */
const syncEnd = /^"(?:SyncProxyRules|syncProxyRules) complete"/;
const syncStart = /^"Syncing (?:iptables|nftables) rules"/;
const syncFailedLine = /^"Sync failed"|^Sync failed; retrying/;
/** Errors that end a sync early (each sync runs one restore, so each appears once per sync). */
const hardFailures: readonly { kind: string; pattern: RegExp }[] = [
  { kind: 'restore', pattern: /Failed to execute iptables-restore|Failed to sync iptables rules/ },
  { kind: 'nft', pattern: /"nftables sync failed"/ },
  { kind: 'chain', pattern: /Failed to ensure that .* chain|Failed to ensure chain/ },
  { kind: 'dummy', pattern: /"Failed to create dummy interface"/ },
];

export interface SyncAttempt {
  /** Failure lines of this sync (restore error, "Sync failed"), in log order. */
  readonly failures: readonly KlogLine[];
  /** The closing "SyncProxyRules complete" line, when the log has it. */
  readonly end: KlogLine | undefined;
  readonly failed: boolean;
  /** When it ended (its last line). */
  readonly at: Date;
}

const noFailures: readonly KlogLine[] = Object.freeze([]);

export function failureKind(line: KlogLine): string | undefined {
  // Every pattern above says "failed" or "Failed": other lines (most of a log) skip the five regexes.
  if (!line.message.includes('ailed')) return undefined;
  if (syncFailedLine.test(line.message)) return 'sync-failed';
  return hardFailures.find((f) => f.pattern.test(line.message))?.kind;
}

/**
 * Groups a log into syncs. Without the V(2) closing line (lower verbosity, IPVS mode), a
 * sync ends where the next one visibly starts: a second failure of a kind already seen.
 */
export function syncAttempts(lines: readonly KlogLine[]): SyncAttempt[] {
  const out: SyncAttempt[] = [];
  let failures: KlogLine[] = [];
  let kinds = new Set<string>();
  let last: KlogLine | undefined;
  const close = (end: KlogLine | undefined) => {
    const at = (end ?? last)?.time;
    const failed = failures.length > 0;
    // Most syncs succeed: they share one empty list, and the collections are renewed only
    // when handed out (a 5,000-line log closes ~1,700 syncs).
    if (at) out.push({ failures: failed ? failures : noFailures, end, failed, at });
    if (failed) {
      failures = [];
      kinds = new Set();
    }
    last = undefined;
  };
  for (const line of lines) {
    if (syncEnd.test(line.message)) {
      close(line);
      continue;
    }
    if (syncStart.test(line.message)) {
      if (failures.length > 0) close(undefined);
      continue;
    }
    const kind = failureKind(line);
    if (!kind) continue;
    if (kinds.has(kind)) close(undefined);
    failures.push(line);
    kinds.add(kind);
    last = line;
  }
  if (failures.length > 0) close(undefined);
  return out;
}

export interface SyncHistory {
  /** Failed syncs after the last good one: the current problem (each counted once). */
  readonly current: readonly SyncAttempt[];
  /** Failed syncs before it: history, not cause. */
  readonly history: readonly SyncAttempt[];
  /** The end of the last good sync in the log. */
  readonly lastSuccess: Date | undefined;
}

/**
 * Splits failed syncs around the last good one, known from the log or from elsewhere
 * (the last-sync metric, healthz): `knownSuccess` is the latest success seen outside the log.
 */
export function syncHistory(lines: readonly KlogLine[], knownSuccess?: Date): SyncHistory {
  const attempts = syncAttempts(lines);
  let lastSuccess = attempts.findLast((a) => !a.failed)?.at;
  if (knownSuccess && (!lastSuccess || knownSuccess > lastSuccess)) lastSuccess = knownSuccess;
  const failed = attempts.filter((a) => a.failed);
  return {
    current: failed.filter((a) => !lastSuccess || a.at > lastSuccess),
    history: failed.filter((a) => lastSuccess && a.at <= lastSuccess),
    lastSuccess,
  };
}
