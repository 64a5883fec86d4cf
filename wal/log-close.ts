/**
 * Closing the writable log (Wal.close): it waits until nothing is queued (or the log is dead, its queue refused) and
 * no written batch's sync is still out, then closes the segment file, trimmed of its preallocated zeros only when the
 * log is healthy.
 */

import { WalFatalError } from './errors.ts'
import type { GroupCommit } from './group-commit.ts'
import type { SegmentWriter } from './segment-writer.ts'

/** How often a closing log looks whether its queue and sync are done. */
const CLOSE_POLL_MS = 1

/** Calls `then` once `commit` is drained: at once, before this returns, if it already is; else on a later look. */
export function whenDrained(commit: GroupCommit, then: () => void): void {
  const look = (): void => {
    // A dead log's queue never drains (it was refused), but a batch written before the death may still have its
    // sync and lead zeros out on the file: closed under them, the fd number went to the next file the process
    // opened, which the sync then synced instead — acknowledging the batch as durable — and the zeros overwrote
    // (review: a halt by a failed compaction or snapshot fsync, then the stop's close).
    // Looked at again each millisecond, not each turn of the loop: a slow disk's sync (the dead log's case) kept a
    // core busy for as long as it took (review).
    if (commit.syncInFlight || (!commit.idle && commit.fatalError === null)) {
      setTimeout(look, CLOSE_POLL_MS)
      return
    }
    then()
  }
  look()
}

/** Closes the segment file (trimmed only if the log is healthy); a healthy log's failed close kills it. */
export function closeSegmentWriter(writer: SegmentWriter, commit: GroupCommit): void {
  const healthy = commit.fatalError === null
  try {
    writer.close({ trim: healthy })
  } catch (error) {
    // Closing after a fatal error may fail again; the data question was settled by the fsync. A healthy log's
    // failed trim (the truncate of the preallocated zeros, or its fsync) is no lost record — every batch was
    // fdatasynced before it was acknowledged — but a failed fsync is never passed over (DESIGN §3): the log
    // dies of it (fatalError, `died`), so its owner's exit says so instead of "stopped cleanly".
    if (healthy) commit.halt(new WalFatalError(`closing the log failed: ${String(error)}; its records were all synced before, the process must recover by reopening`, { cause: error }))
  }
}
