/**
 * Marking failed fsyncs as fatal: a WalIo whose fsync and directory fsync failures come out as the caller's error,
 * one with the stable code FSYNC_FAILED (isSyncFailure), which whoever owns the log dies of, never retrying (DESIGN §3:
 * after a failed fsync what reached the disk is unknown, and a second one proves nothing). Used by compaction
 * (CompactionSyncError) and the snapshot store (src/runtime/snapshot/store.ts, SnapshotSyncError).
 */

import { isSyncFailure } from './errors.ts'
import type { WalIo } from './io.ts'

/** `io` whose fsync and directory fsync throw `marked(target, cause)`; a failure already marked passes unchanged. */
export function syncFailuresMarked(io: WalIo, marked: (target: string, cause: unknown) => Error): WalIo {
  const synced = <T>(target: string, call: () => T): T => {
    try {
      return call()
    } catch (error) {
      throw isSyncFailure(error) ? error : marked(target, error)
    }
  }
  return { ...io, fsync: (fd) => synced(`file descriptor ${fd}`, () => io.fsync(fd)), fsyncDirectory: (path) => synced(path, () => io.fsyncDirectory(path)) }
}
