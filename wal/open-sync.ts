/**
 * A writable open makes the last segment durable before the log says its end. The group commit acknowledges a batch
 * only after its fdatasync, but a process killed between a batch's write and that sync (kill -9, an OOM kill) leaves
 * the batch in the page cache: the next open reads it as valid frames and reports them as the log's end (`lastLsn`,
 * "the last durable LSN"), and what this run then derives from that end — a snapshot at it, the audit's start line in
 * the anchors file, the back office's stored LSN — names frames no sync ever covered. A power cut before this run's
 * first batch sync would take them again (lost-write.ts cuts the hole), and that evidence would then lie beyond the
 * log's end, which the start refuses (LOG_BEHIND_SNAPSHOT, LOG_BEHIND_ANCHOR). One fdatasync at open closes the gap:
 * everything an open reports is on disk. Under durability `none` nothing is synced, here as anywhere.
 *
 * The bytes are written again before that sync, from where the last batch may begin (`tailOfLastSegment`). A failed
 * fdatasync on Linux marks the pages it could not write clean and leaves them in the page cache: an open whose sync of
 * an unsynced batch failed refused to start (fatal), but the next open read the batch from those pages, its own
 * fdatasync had nothing to write and succeeded, and it reported frames that were never on disk, then acknowledged
 * records after them — a power cut left a hole under acknowledged records (review). Written again, the pages are dirty
 * and the sync must write them (or fail, fatal again). At most one batch is written and not known durable at any time
 * (lost-write.ts): batchBytesMax, or one larger append (a batch of its own), at the end of the last segment; the bytes
 * written again are those, identical, so an open cut short by a crash changes nothing.
 *
 * The log's directory is fsynced too: a process killed between a new segment's rename into place and the directory
 * fsync that follows it (createSegment: a roll, or a first open) leaves the segment's name in the page cache only.
 * This run writes its batches into that segment and acknowledges them after their fdatasync, which makes the file's
 * bytes durable, not its name: a power cut then took the segment, acknowledged records and all (review).
 */

import { dirname } from 'node:path'
import { SyncFailedError, WalFatalError } from './errors.ts'
import { readInto, type WalIo } from './io.ts'
import type { Durability } from './options.ts'
import { syncFailuresMarked } from './sync-failures.ts'

/** The last segment, and the part of it an open writes again before its sync: [fromBytes, endBytes). */
export interface OpenTail {
  path: string
  fromBytes: number
  endBytes: number
}

/** The bytes written again at a time: the last batch is written in pieces of this size, through one buffer. */
const REWRITE_CHUNK_BYTES = 1024 * 1024

/**
 * The part of the last segment (`path`, its frames ending at `endBytes`) that may hold a batch not known durable: from
 * `windowBytes` (the largest batch) before its end, or from where its last append begins (`lastAppendOffsetBytes`,
 * -1: none) if that is earlier — a single append larger than a batch is written as a batch of its own. The segment's
 * header is in it when the segment is that short.
 */
export function tailOfLastSegment(path: string, log: { endBytes: number; lastAppendOffsetBytes: number; windowBytes: number }): OpenTail {
  const { endBytes, lastAppendOffsetBytes, windowBytes } = log
  const fromBytes = Math.max(0, Math.min(endBytes - windowBytes, lastAppendOffsetBytes < 0 ? endBytes : lastAppendOffsetBytes))
  return { path, fromBytes, endBytes }
}

export function syncLastSegmentAtOpen(io: WalIo, tail: OpenTail | undefined, durability: Durability): void {
  if (tail === undefined || durability !== 'fsync') return
  const { path } = tail
  // Never retried and trusted (DESIGN §3): the open fails and the process recovers by opening again. A directory that
  // cannot be opened fails the open too (DIRECTORY_OPEN_FAILED): nothing was attempted, so a later open tries afresh.
  syncFailuresMarked(io, { during: 'at open, before the log reports its end' }).fsyncDirectory(dirname(path))
  const fd = io.openAppend(path)
  try {
    writeAgain(io, fd, tail)
    io.fdatasync(fd)
  } catch (error) {
    if (error instanceof WalFatalError) throw error
    throw new SyncFailedError(path, error, { during: 'at open, before the log reports its end' })
  } finally {
    io.close(fd)
  }
}

/** Reads [fromBytes, endBytes) of the segment open as `fd` and writes the same bytes back in place. */
function writeAgain(io: WalIo, fd: number, tail: OpenTail): void {
  const buffer = new Uint8Array(Math.min(REWRITE_CHUNK_BYTES, Math.max(0, tail.endBytes - tail.fromBytes)))
  for (let position = tail.fromBytes; position < tail.endBytes; position += buffer.byteLength) {
    const piece = buffer.subarray(0, Math.min(buffer.byteLength, tail.endBytes - position))
    try {
      if (readInto(io, fd, piece, position) !== piece.byteLength) throw new Error(`the file ends before offset ${position + piece.byteLength}`)
      io.write(fd, piece, position)
    } catch (error) {
      throw new WalFatalError(
        `writing the last batch's bytes of ${tail.path} again at open (offsets ${tail.fromBytes}..${tail.endBytes}) failed (${error instanceof Error ? error.message : String(error)}); ` +
          'the same bytes were written, so nothing changed, and the log does not open until it can be',
        { cause: error },
      )
    }
  }
}
