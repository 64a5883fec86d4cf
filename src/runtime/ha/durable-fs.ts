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
import type { WalIo } from '../../../wal/index.ts'

/** An fsync (of a file or a directory) failed while setting a log aside: fatal, see the file comment. */
export class SyncFailedError extends Error {
  override readonly name = 'SyncFailedError'
  readonly code = 'FSYNC_FAILED'

  constructor(
    readonly target: string,
    cause: unknown,
  ) {
    super(`FSYNC_FAILED: fsync of ${target} failed (${cause instanceof Error ? cause.message : String(cause)}); nothing more is done on this data dir until a restart`, { cause })
  }
}

/** The SyncFailedError that `error` is, or was caused by (through at most 8 causes), or null. */
export function syncFailureOf(error: unknown): SyncFailedError | null {
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 8; at = at.cause, depth++) {
    if (at instanceof SyncFailedError) return at
  }
  return null
}

/**
 * `io` whose fsync, fdatasync (on the loop or off it: a log opened on it dies of a SyncFailedError, WalFatalError's
 * cause) and directory fsync fail with SyncFailedError. Wrapping twice is harmless.
 */
export function fatalSyncs(io: WalIo): WalIo {
  const failed = (target: string, error: unknown): SyncFailedError => (error instanceof SyncFailedError ? error : new SyncFailedError(target, error))
  const synced = <T>(target: () => string, call: () => T): T => {
    try {
      return call()
    } catch (error) {
      throw failed(target(), error)
    }
  }
  return {
    ...io,
    fsync: (fd) => synced(() => `file descriptor ${fd}`, () => io.fsync(fd)),
    fdatasync: (fd) => synced(() => `file descriptor ${fd}`, () => io.fdatasync(fd)),
    fdatasyncOffLoop: (fd, done) =>
      synced(() => `file descriptor ${fd}`, () => io.fdatasyncOffLoop(fd, (error) => done(error === null ? null : failed(`file descriptor ${fd}`, error)))),
    fsyncDirectory: (path) => synced(() => path, () => io.fsyncDirectory(path)),
  }
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
