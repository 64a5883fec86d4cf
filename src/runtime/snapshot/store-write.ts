/**
 * Writing one file of the snapshot directory durably: a temp file (the name, then TEMP_SUFFIX) written and fsynced,
 * closed, renamed into place, the directory fsynced. A crash at any point leaves under the name either nothing new or
 * the whole file, fsynced; a temp file left behind is removed at the next start (SnapshotStore.removeTempFiles).
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

export interface OffLoopWrite {
  /**
   * Awaits one call made off the event loop (a piece's write, its fsync): the caller counts it a step of its snapshot
   * and the loop free while it runs (take.ts blockMeter).
   */
  wait: (call: Promise<void>) => Promise<void>
  /** Bytes per piece (default PIECE_BYTES_DEFAULT). */
  pieceBytes?: number
}

/** Temp file, write, fsync, close, rename, directory fsync: after it returns the file is durable under `name`. */
export function writeDurably(io: WalIo, dir: string, name: string, bytes: Uint8Array): void {
  const path = join(dir, name)
  const fd = io.openAppend(path + TEMP_SUFFIX)
  try {
    io.truncate(fd, 0)
    io.write(fd, bytes, 0)
    io.fsync(fd)
  } finally {
    io.close(fd)
  }
  io.rename(path + TEMP_SUFFIX, path)
  io.fsyncDirectory(dir)
}

/** writeDurably with the file's bytes written and fsynced off the event loop, piece by piece (see the file comment). */
export async function writeDurablyOffLoop(io: WalIo, dir: string, name: string, bytes: Uint8Array, options: OffLoopWrite): Promise<void> {
  const path = join(dir, name)
  const pieceBytes = options.pieceBytes ?? PIECE_BYTES_DEFAULT
  const fd = io.openAppend(path + TEMP_SUFFIX)
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
  io.fsyncDirectory(dir)
}

/** An off-loop call as a promise: its error, or a synchronous throw (nothing issued), rejects it. */
function offLoop(call: (done: (error: Error | null) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => call((error) => (error === null ? resolve() : reject(error))))
}
