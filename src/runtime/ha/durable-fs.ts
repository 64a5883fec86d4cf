/**
 * The file-system calls that set a data dir's `log/` and `snapshots/` aside or replace them (dir-swap.ts,
 * diverged-prefix.ts, divergence.ts, snapshot-recovery.ts), made durable, and the project's rule for their failures.
 *
 * A rename is durable only once the directory holding the new name (and the old one's, when it differs) is fsynced:
 * until then a power loss may undo it. A diverged log that came back under `log/` after the node had re-synced would
 * hold records the cluster discarded, and a node leading from it would serve them as its own.
 *
 * An fsync that fails leaves unknown what reached the disk, and a second fsync proves nothing (the kernel may have
 * dropped the dirty state and report success the next time). So, as for the log (DESIGN §3), a failed fsync is fatal:
 * `fatalSyncs` turns it into a SyncFailedError, which nothing on these paths catches to go on; the node stops, and a
 * restart finds what is on disk and finishes or rolls back the swap from there (finishInterruptedSwaps).
 */

import { dirname } from 'node:path'
import { LeaseError, SyncFailedError, syncFailuresMarked, WalFatalError, type WalIo } from '../../../wal/index.ts'
import type { Gateway } from '../gateway.ts'

export { SyncFailedError }

/** The SyncFailedError that `error` is, or was caused by (through at most 8 causes), or null. */
export function syncFailureOf(error: unknown): SyncFailedError | null {
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 8; at = at.cause, depth++) {
    if (at instanceof SyncFailedError) return at
  }
  return null
}

/**
 * What in `error` (or its causes, the SyncFailedError first) means this process must do nothing more on the data dir: a failed fsync
 * (SyncFailedError) or a log that died (WalFatalError: a failed write, fsync or close) — or null. A role change that
 * meets one stops the node for good (HaNode.fail) rather than go on with a new gateway on that data dir.
 */
export function fatalFailureOf(error: unknown): Error | null {
  const syncFailure = syncFailureOf(error) // the more precise of the two when a log died of a failed fsync
  if (syncFailure !== null) return syncFailure
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 8; at = at.cause, depth++) {
    if (at instanceof WalFatalError) return at
  }
  return null
}

/**
 * After a role change stopped `gateway`: throws the error its log died of, unless that was a lost lease (a deposed
 * leader's fenced write, which is what a step-down is for). A log whose close failed (the trim's truncate or fsync)
 * died of it, as did one whose fdatasync failed while its death waited behind the role change; a gateway no longer
 * the node's was passed over, and the change went on to open the same log again.
 */
export function throwIfLogDied(gateway: Gateway): void {
  const fatal = gateway.engine.wal.fatalError
  if (fatal !== null && !(fatal instanceof LeaseError)) throw fatal
}

/**
 * `io` whose fsync, fdatasync (on the loop or off it: a log opened on it dies of a SyncFailedError, WalFatalError's
 * cause) and directory fsync fail with SyncFailedError. A directory that cannot be opened for its fsync (EMFILE, say)
 * is fatal here too, unlike for a snapshot or a compaction (wal/sync-failures.ts): it comes after a rename this swap
 * depends on, and the swap's recovery from a rename not known durable is the restart (finishInterruptedSwaps), not a
 * rollback or a retry on a node out of file descriptors. Wrapping twice is harmless.
 */
export function fatalSyncs(io: WalIo): WalIo {
  return syncFailuresMarked(io, { during: DATA_DIR_SWAP, then: 'nothing more is done on this data dir until a restart', openFailuresFatal: true })
}

/**
 * The `during` of a SyncFailedError from `fatalSyncs`: a swap of the data dir's log or snapshots, which a restart
 * finishes or rolls back — unlike a failed fsync of the log, a compaction or a snapshot outside any swap, which the
 * same class covers.
 */
export const DATA_DIR_SWAP = 'in a data dir swap'

/**
 * What to do after `failure` stopped a node, for its fatal line: a failed fsync in a data dir swap is finished or
 * rolled back by a restart; one of the log, a compaction or a snapshot (the log died of it) says which it was, and a
 * restart recovers from the log; anything else is restarted once its cause is fixed.
 */
export function restartAdviceAfter(failure: Error): string {
  const syncFailure = syncFailureOf(failure)
  if (syncFailure === null) return 'restart it once the cause is fixed'
  if (syncFailure.during === DATA_DIR_SWAP) return "restart it, and it finishes or rolls back the data dir's swap from what is on disk"
  const what = syncFailure.during ?? `of ${syncFailure.target}`
  return `an fsync failed ${what}, outside any data dir swap: restart it once the disk is fixed, and it recovers from the log on disk`
}

/**
 * Renames `from` to `to` and fsyncs the directory holding `to`, and the one that held `from` when it is another: after
 * it returns the rename survives a power loss. Throws SyncFailedError if an fsync fails.
 */
export function renameDurably(io: WalIo, from: string, to: string): void {
  const synced = fatalSyncs(io)
  synced.rename(from, to)
  synced.fsyncDirectory(dirname(to))
  if (dirname(from) !== dirname(to)) synced.fsyncDirectory(dirname(from))
}
