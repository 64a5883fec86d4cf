/**
 * Writing a lease's epoch files (lease.ts; their names and reading them: lease-record.ts): linking a new epoch's file
 * into place (the race point between takers), writing a record durably (on the event loop or off it), and tidying the
 * old ones, oldest first.
 */

import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { toHex } from './chain.ts'
import { LeaseError } from './errors.ts'
import type { WalIo } from './io.ts'
import { EPOCH_FILE, epochFileName, KEEP_EPOCH_FILES, type LeaseRecord } from './lease-record.ts'

/**
 * Writes `record` to a private temp file, then hard-links it into place as its epoch's file: link fails with EEXIST if
 * the epoch is taken (LEASE_RACE_LOST), and an epoch file never exists without its full content.
 */
export function linkEpochFile(io: WalIo, dir: string, record: LeaseRecord): void {
  const path = join(dir, epochFileName(record.epoch))
  const tempPath = `${path}.${tempNameOf(record.holderId)}.${process.pid}.tmp`
  writeDurably(io, tempPath, record)
  try {
    io.link(tempPath, path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new LeaseError('LEASE_RACE_LOST', `another process took epoch ${record.epoch} first`)
    }
    throw error
  } finally {
    io.unlink(tempPath)
  }
}

/** Writes `record` to `path` (created, or emptied first) and fsyncs the file. */
export function writeDurably(io: WalIo, path: string, record: LeaseRecord): void {
  const fd = io.openAppend(path)
  try {
    io.truncate(fd, 0)
    io.write(fd, new TextEncoder().encode(JSON.stringify(record)), 0)
    io.fsync(fd)
  } finally {
    io.close(fd)
  }
}

/**
 * writeDurably with the write and the fsync made off the event loop (thread-pool calls): a leader's renewal
 * (Lease.renewOffLoop) leaves intake running while the disk syncs. The open and the truncate of the temp file (a few
 * hundred bytes, no sync) stay on the loop. Resolves once the file is durable; rejects with the write's or the fsync's
 * error, the file closed either way.
 */
export async function writeDurablyOffLoop(io: WalIo, path: string, record: LeaseRecord): Promise<void> {
  const fd = io.openAppend(path)
  try {
    io.truncate(fd, 0)
    const bytes = new TextEncoder().encode(JSON.stringify(record))
    await offLoop((done) => io.writeOffLoop(fd, bytes, 0, done))
    await offLoop((done) => io.fsyncOffLoop(fd, done))
  } finally {
    io.close(fd)
  }
}

/** An off-loop call (WalIo's `…OffLoop`) as a promise: its error, or a synchronous throw (nothing issued), rejects it. */
export function offLoop(call: (done: (error: Error | null) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => call((error) => (error === null ? resolve() : reject(error))))
}

/** Characters of a holder id kept in a temp file's name (see tempNameOf). */
const TEMP_NAME_ID_CHARS_MAX = 64

/**
 * The holder's part of the temp file an acquire (or a renewal off the loop, lease-renew-off-loop.ts) writes: the
 * holder id made safe for a file name, and, when it is long, cut short with a digest of the whole id (one per holder
 * still). Taken whole, a holder id with a long advertised URL (the CLI takes 2048 characters) made a name past the
 * file system's 255 bytes: ENAMETOOLONG at every acquire, so that node could never lead.
 */
export function tempNameOf(holderId: string): string {
  const safe = holderId.replace(/[^A-Za-z0-9_-]/g, '_')
  if (safe.length <= TEMP_NAME_ID_CHARS_MAX) return safe
  return `${safe.slice(0, TEMP_NAME_ID_CHARS_MAX)}_${toHex(sha256(new TextEncoder().encode(holderId)).subarray(0, 8))}`
}

/**
 * Removes the epoch files KEEP_EPOCH_FILES or more below `epoch` (the one just taken), oldest first: the fencing check
 * of a holder of epoch n relies on its own file going before n+1's (Lease.fenced, lease.ts).
 */
export function removeOldEpochFiles(io: WalIo, dir: string, epoch: number): void {
  const old: number[] = []
  for (const name of io.readdir(dir)) {
    const match = EPOCH_FILE.exec(name)
    if (match !== null && Number(match[1]) <= epoch - KEEP_EPOCH_FILES) old.push(Number(match[1]))
  }
  for (const oldEpoch of old.sort((a, b) => a - b)) {
    try {
      io.unlink(join(dir, epochFileName(oldEpoch)))
    } catch {
      // Another process may have removed it first; old epoch files are only tidied, and gone in this order.
    }
  }
}
