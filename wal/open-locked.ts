/**
 * Opening the writable log's directory: its entry made durable, its lock taken, the log recovered under the lock
 * (recover.ts), the last segment's last batch written again and synced as the durability asks (open-sync.ts). The
 * lock is let go if any step throws.
 */

import { LogDirLock } from './dir-lock.ts'
import { makeDirDurable } from './durable-dir.ts'
import { syncLastSegmentAtOpen, tailOfLastSegment } from './open-sync.ts'
import type { WalOptions } from './options.ts'
import { recoverLog } from './recover.ts'

export type Recovered = ReturnType<typeof recoverLog> & { lock: LogDirLock }

/** Takes the directory's lock, recovers the log under it and builds the Wal; the lock is let go if anything throws. */
export function openLocked<T>(dir: string, options: WalOptions, build: (recovered: Recovered) => T): T {
  // Its entry in the data directory durable before any record in it is acknowledged (durable-dir.ts).
  makeDirDurable(options.io, dir, { syncParentOfExisting: true })
  const lock = LogDirLock.acquire(dir)
  try {
    const recovered = recoverLog(dir, {
      io: options.io,
      writable: true,
      verifyChain: options.verifyChainOnOpen,
      indexStrideFrames: options.indexStrideFrames,
      chainAnchorLsn: options.verifyChainOnOpen ? options.chainAnchorLsn : 0,
      // The writer never has more than one batch written and not synced, and a batch spans at most batchBytesMax.
      lostWriteWindowBytes: options.batchBytesMax,
      ...(options.tailCut === undefined ? {} : { tailCut: options.tailCut }),
    })
    const last = recovered.catalog.last
    // The last batch may be up to batchBytesMax, as the lost-write window above assumes.
    const tail = last === undefined ? undefined : tailOfLastSegment(last.path, { endBytes: last.sizeBytes, lastAppendOffsetBytes: recovered.lastAppendOffsetBytes, windowBytes: options.batchBytesMax })
    syncLastSegmentAtOpen(options.io, tail, options.durability)
    return build({ ...recovered, lock })
  } catch (error) {
    lock.release()
    throw error
  }
}
