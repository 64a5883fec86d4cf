/**
 * Marking failed fsyncs as fatal: a WalIo whose fsync, fdatasync and directory fsync failures (each on the loop or off it)
 * come out as SyncFailedError, the stable code FSYNC_FAILED (isSyncFailure), which whoever owns the log dies of, never
 * retrying (DESIGN §3: after a failed fsync what reached the disk is unknown, and a second one proves nothing). Used by
 * compaction, the snapshot store (src/runtime/snapshot/store.ts) and the HA data dir swaps (durable-fs.ts).
 *
 * A directory that cannot be opened for its fsync (DirectoryOpenError: EMFILE, say) is not a failed fsync: none was
 * attempted. It passes unchanged, so a snapshot or a compaction fails with it and the log goes on — unless the caller
 * asks `openFailuresFatal` (the HA swaps, whose recovery from a rename not known durable is a restart).
 */

import { DirectoryOpenError, isSyncFailure, SyncFailedError } from './errors.ts'
import type { WalIo } from './io.ts'

export interface SyncFailureContext {
  /** What was being done, for the message: `while compacting`. */
  during?: string
  /** What follows, for the message. */
  then?: string
  /** A directory that cannot be opened for its fsync is fatal too (SyncFailedError caused by the DirectoryOpenError). */
  openFailuresFatal?: boolean
}

/** `io` whose syncs throw SyncFailedError (see the file comment); a failure already marked passes unchanged. */
export function syncFailuresMarked(io: WalIo, context: SyncFailureContext): WalIo {
  const { during, then } = context
  const message = { ...(during === undefined ? {} : { during }), ...(then === undefined ? {} : { then }) }
  const failed = (target: string, error: unknown): Error => {
    if (isSyncFailure(error)) return error as Error
    if (error instanceof DirectoryOpenError && context.openFailuresFatal !== true) return error
    return new SyncFailedError(target, error, message)
  }
  const synced = <T>(target: string, call: () => T): T => {
    try {
      return call()
    } catch (error) {
      throw failed(target, error)
    }
  }
  return {
    ...io,
    fsync: (fd) => synced(`file descriptor ${fd}`, () => io.fsync(fd)),
    fsyncOffLoop: (fd, done) => synced(`file descriptor ${fd}`, () => io.fsyncOffLoop(fd, (error) => done(error === null ? null : failed(`file descriptor ${fd}`, error)))),
    fdatasync: (fd) => synced(`file descriptor ${fd}`, () => io.fdatasync(fd)),
    fdatasyncOffLoop: (fd, done) =>
      synced(`file descriptor ${fd}`, () => io.fdatasyncOffLoop(fd, (error) => done(error === null ? null : failed(`file descriptor ${fd}`, error)))),
    fsyncDirectory: (path) => synced(path, () => io.fsyncDirectory(path)),
    fsyncDirectoryOffLoop: (path, done) => synced(path, () => io.fsyncDirectoryOffLoop(path, (error) => done(error === null ? null : failed(path, error)))),
  }
}
