/**
 * Writing one file of the snapshot directory durably: a temp file (the name, then TEMP_SUFFIX) written and fsynced,
 * closed, renamed into place, the directory fsynced. A crash at any point leaves under the name either nothing new or
 * the whole file, fsynced; a temp file a crash left behind is removed at the next start (SnapshotStore.removeTempFiles).
 * A write that fails (ENOSPC, a failed fsync, the rename) removes its temp file at once: left until the next start, a
 * partial snapshot of up to the whole file's size held the space a full disk's log needs for its next segment. The
 * removal is best effort — one that fails is reported (`log`) and the write's own error is what the caller gets. It
 * changes nothing else: a failed fsync still throws SyncFailedError, of which the log dies (the temp file is never used
 * again, whatever reached the disk of it).
 *
 * `writeDurably` makes every call on the event loop: the offline commands, the manifest (a few KiB). A running
 * gateway's snapshot file (186 MB for 100k orders with the back office) is written by `writeDurablyOffLoop`: in pieces,
 * each written and fsynced off the event loop (WalIo.writeOffLoop, fsyncOffLoop), so intake goes on meanwhile. Written
 * at once and fsynced on the loop it held the loop ~0.5 s (scripts/bench-snapshot.ts). Each piece's fsync covers only
 * its piece: a slow disk advances piece by piece, each a step a stop's bound sees (stop-watch.ts), never one fsync of
 * the whole file that a stop would take for a stall; and a piece synced at once costs no more than the whole file
 * synced at its end (measured: 186 MB, 8 MiB pieces, 0.13 s against 0.5 s).
 *
 * A failed fsync is a SyncFailedError as on the loop (the store's io is syncFailuresMarked): the snapshotter stops the
 * log of it. The rename and the directory's fsync stay on the loop (one metadata change each).
 */

import { join } from 'node:path'
import type { WalIo } from '../../../wal/index.ts'

export const TEMP_SUFFIX = '.tmp'

/** Bytes of a snapshot file written and fsynced by one off-loop call each. */
export const PIECE_BYTES_DEFAULT = 8 << 20

export interface DurableWrite {
  /** Where a failed write's temp file that could not be removed is reported; stderr by default. */
  log?: (line: string) => void
}

export interface OffLoopWrite extends DurableWrite {
  /**
   * Awaits one call made off the event loop (a piece's write, its fsync): the caller counts it a step of its snapshot
   * and the loop free while it runs (take.ts blockMeter).
   */
  wait: (call: Promise<void>) => Promise<void>
  /** Bytes per piece (default PIECE_BYTES_DEFAULT). */
  pieceBytes?: number
}

/** Temp file, write, fsync, close, rename, directory fsync: after it returns the file is durable under `name`. */
export function writeDurably(io: WalIo, dir: string, name: string, bytes: Uint8Array, options: DurableWrite = {}): void {
  const path = join(dir, name)
  const fd = io.openAppend(path + TEMP_SUFFIX)
  try {
    try {
      io.truncate(fd, 0)
      io.write(fd, bytes, 0)
      io.fsync(fd)
    } finally {
      io.close(fd)
    }
    io.rename(path + TEMP_SUFFIX, path)
  } catch (error) {
    removeTemp(io, path + TEMP_SUFFIX, options.log)
    throw error
  }
  io.fsyncDirectory(dir)
}

/** writeDurably with the file's bytes written and fsynced off the event loop, piece by piece (see the file comment). */
export async function writeDurablyOffLoop(io: WalIo, dir: string, name: string, bytes: Uint8Array, options: OffLoopWrite): Promise<void> {
  const path = join(dir, name)
  const pieceBytes = options.pieceBytes ?? PIECE_BYTES_DEFAULT
  const fd = io.openAppend(path + TEMP_SUFFIX)
  try {
    try {
      io.truncate(fd, 0)
      // One call in flight at a time: the fd is closed only once none is.
      for (let at = 0; at < bytes.byteLength; at += pieceBytes) {
        const piece = bytes.subarray(at, Math.min(bytes.byteLength, at + pieceBytes))
        const position = at
        await options.wait(offLoop((done) => io.writeOffLoop(fd, piece, position, done)))
        await options.wait(offLoop((done) => io.fsyncOffLoop(fd, done)))
      }
      if (bytes.byteLength === 0) await options.wait(offLoop((done) => io.fsyncOffLoop(fd, done)))
    } finally {
      io.close(fd)
    }
    io.rename(path + TEMP_SUFFIX, path)
  } catch (error) {
    removeTemp(io, path + TEMP_SUFFIX, options.log)
    throw error
  }
  io.fsyncDirectory(dir)
}

/**
 * A failed write's temp file removed (see the file comment); one that cannot be is reported, never thrown over the
 * write's error. Its removal is not fsynced: a power cut that brings it back leaves it to the next start.
 */
function removeTemp(io: WalIo, tempPath: string, log: ((line: string) => void) | undefined): void {
  try {
    io.unlink(tempPath)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    const line = `snapshot: the failed write's temp file ${tempPath} could not be removed (${error instanceof Error ? error.message : String(error)}); the next start removes it`
    if (log === undefined) process.stderr.write(`${line}\n`)
    else log(line)
  }
}

/** An off-loop call as a promise: its error, or a synchronous throw (nothing issued), rejects it. */
function offLoop(call: (done: (error: Error | null) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => call((error) => (error === null ? resolve() : reject(error))))
}
