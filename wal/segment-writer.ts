/**
 * The writer's side of the segment files: the open file descriptor of the last segment, the bytes written at its end,
 * the zeros kept ahead of them (preallocation), and the roll to a new segment when one is full.
 *
 * Preallocation: overwriting blocks the file already has lets fdatasync skip the file-size update an extending write
 * would force through the filesystem journal, so a lead of `preallocateBytes` of zeros is kept ahead of the last frame
 * — built a step at a time. A batch's write notes when the lead is short; the group commit then takes the step
 * (`takeLeadStep`) and writes it beside the batch's fdatasync, off the event loop under `fsync` durability: zeroing
 * 256 KiB on the loop cost ~6 % of its time at full load, in stalls of 1.5 ms and more (bench:http's CPU profile). No
 * batch is written while that runs, so the zeros never land on frames. Recovery takes zeros after the last frame for
 * preallocated space (and trims them on a writable open); a segment is trimmed to its last frame before the roll seals
 * it. A new segment is created crash-safely (createSegment).
 *
 * Nothing here syncs a batch: the group commit does (one fdatasync per batch); only a part written just before a roll
 * is synced on the spot (syncPartNow), because the segment is closed after it.
 */

import { join } from 'node:path'
import { assert } from './assert.ts'
import type { SegmentCatalog, SegmentInfo } from './catalog.ts'
import { isSyncFailure, SyncFailedError } from './errors.ts'
import type { WalOptions } from './options.ts'
import type { ChainPosition } from './scan.ts'
import { SEGMENT_HEADER_BYTES, SEGMENT_TEMP_SUFFIX, encodeSegmentHeader, segmentName } from './segment.ts'
import { noteFsync, type WalStats } from './stats.ts'

/** The descriptor of a writer whose file is closed (a roll that failed after closing the sealed segment, a close). */
const NO_FD = -1

/** The most zeros written ahead per batch (~1.5 ms of writing); see SegmentWriter.takeLeadStep. */
const PREALLOCATE_STEP_BYTES = 256 * 1024

/** Zeros to write ahead of the last frame: `bytes` at `positionBytes` of the file `fd`. */
export interface LeadStep {
  fd: number
  positionBytes: number
  bytes: Uint8Array
}

/** Where a batch's first frame goes: the segment being written and its end then (the durable frames end there). */
export interface WriteMark {
  segment: SegmentInfo
  offsetBytes: number
}

export class SegmentWriter {
  private readonly dir: string
  private readonly options: WalOptions
  private readonly catalog: SegmentCatalog
  /** The written head: a rolled segment starts after its last LSN, chained to its hash. */
  private readonly position: ChainPosition
  private readonly stats: WalStats
  /** The last segment's file, open for writing (batches are fdatasync'ed through it). */
  private fdOpen: number
  /** Bytes of the current segment file that exist on disk (valid frames plus preallocated zeros, those taken included). */
  private allocatedBytes: number
  /** A write left the lead shorter than `preallocateBytes`: the next takeLeadStep returns a step. */
  private leadShort = false
  /** One step of zeros (at most PREALLOCATE_STEP_BYTES, never written to). */
  private readonly zeros: Uint8Array

  constructor(dir: string, options: WalOptions, log: { catalog: SegmentCatalog; position: ChainPosition; stats: WalStats }) {
    this.dir = dir
    this.options = options
    this.catalog = log.catalog
    this.position = log.position
    this.stats = log.stats
    const last = this.currentSegment()
    this.fdOpen = options.io.openAppend(last.path)
    this.allocatedBytes = last.sizeBytes
    this.zeros = new Uint8Array(Math.min(PREALLOCATE_STEP_BYTES, options.preallocateBytes))
  }

  /** The file descriptor of the current (last) segment. */
  get fd(): number {
    return this.fdOpen
  }

  currentSegment(): SegmentInfo {
    const last = this.catalog.last
    assert(last !== undefined, 'an open log has at least one segment')
    return last
  }

  /**
   * Writes `bytes` at the end of `segment` (not synced: the batch's fdatasync, or syncPartNow before a roll), and
   * notes whether the zeros ahead have fallen short of the lead.
   */
  writePart(segment: SegmentInfo, bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return
    const end = segment.sizeBytes + bytes.byteLength
    this.options.io.write(this.fdOpen, bytes, segment.sizeBytes)
    segment.sizeBytes = end
    this.allocatedBytes = Math.max(this.allocatedBytes, end)
    const lead = this.options.preallocateBytes
    this.leadShort = lead > 0 && end + lead > this.allocatedBytes && this.allocatedBytes < this.options.segmentBytesMax
  }

  /**
   * The next step of zeros ahead of the current segment's last frame, if a write left the lead short: at most
   * PREALLOCATE_STEP_BYTES, never past the segment size limit, counted as allocated from now on. The caller writes it
   * before the next batch is written (GroupCommit.makeDurable), so no frame is ever written where zeros are pending.
   */
  takeLeadStep(): LeadStep | null {
    if (!this.leadShort) return null
    this.leadShort = false
    const positionBytes = this.allocatedBytes
    const endBytes = Math.min(positionBytes + this.zeros.byteLength, this.options.segmentBytesMax)
    if (endBytes <= positionBytes) return null
    this.allocatedBytes = endBytes
    return { fd: this.fdOpen, positionBytes, bytes: this.zeros.subarray(0, endBytes - positionBytes) }
  }

  /** Where the next batch begins (GroupCommit notes it before writing one, for dropFailedBatch). */
  mark(): WriteMark {
    const segment = this.currentSegment()
    return { segment, offsetBytes: segment.sizeBytes }
  }

  /**
   * After a failed write or sync of the batch begun at `start`: cuts what of it is not known durable off the segment
   * being written — from `start` on, or past the header of a segment the batch rolled into (a part before a roll was
   * synced there and then). A failed fsync leaves the pages it could not write in the page cache marked clean (Linux):
   * the restart's open read them as frames, its own fdatasync had nothing to write and succeeded, and it reported as
   * the log a batch that was refused and is not on disk, then appended after it; a power cut left a hole under frames
   * the restart acknowledged (review). The truncate drops those pages. Not synced: the next open's sync of the last
   * segment (open-sync.ts) makes the cut durable, and until then a power cut leaves at most that batch's torn bytes.
   */
  dropFailedBatch(start: WriteMark): void {
    if (this.fdOpen === NO_FD) return
    const current = this.currentSegment()
    try {
      this.options.io.truncate(this.fdOpen, current === start.segment ? start.offsetBytes : SEGMENT_HEADER_BYTES)
    } catch {
      // The writer is dying of the batch's own failure, which is what its owner hears; the cut not made, the next open
      // judges the bytes as before (and a disk that refuses a truncate now refuses that open's cut: WAL_FATAL).
    }
  }

  /** Syncs the current segment on the spot: a batch's part before a segment roll (rare; the segment closes after). */
  syncPartNow(): void {
    if (this.options.durability !== 'fsync') return
    const started = performance.now()
    this.options.io.fdatasync(this.fdOpen)
    noteFsync(this.stats, performance.now() - started)
  }

  /**
   * Starts a new segment after the current one. The current one was fully synced by syncPartNow. Its descriptor is
   * forgotten as it is closed: a roll that fails after that (the new segment not created, not opened) leaves none, and
   * the dead log's close closed the old number again — by then another file's (review: the process's next open took it).
   */
  roll(): SegmentInfo {
    const { io } = this.options
    this.trimCurrentSegment()
    const closing = this.fdOpen
    this.fdOpen = NO_FD
    io.close(closing)
    const header = { firstLsn: this.position.lastLsn + 1, previousHash: this.position.lastHash, epoch: this.options.epoch }
    const segment = createSegment(this.dir, this.options, header, this.catalog)
    this.fdOpen = io.openAppend(segment.path)
    this.allocatedBytes = segment.sizeBytes
    this.leadShort = false
    return segment
  }

  /**
   * Cuts preallocated zeros off the current segment so a sealed segment ends exactly at its last frame. A failed fsync
   * of the cut is SyncFailedError (FSYNC_FAILED), which whoever owns the log dies of (a roll's batch, a close).
   */
  trimCurrentSegment(): void {
    const segment = this.currentSegment()
    if (this.fdOpen === NO_FD || this.allocatedBytes <= segment.sizeBytes) return
    this.options.io.truncate(this.fdOpen, segment.sizeBytes)
    try {
      this.options.io.fsync(this.fdOpen)
    } catch (error) {
      throw isSyncFailure(error) ? error : new SyncFailedError(segment.path, error, { during: 'trimming its preallocated zeros' })
    }
    this.allocatedBytes = segment.sizeBytes
  }

  /** Closes the file; with `trim`, cuts the preallocated zeros off first (a clean close; not after a fatal error). */
  close(options: { trim: boolean }): void {
    if (this.fdOpen === NO_FD) return
    try {
      if (options.trim) this.trimCurrentSegment()
    } finally {
      this.options.io.close(this.fdOpen)
      this.fdOpen = NO_FD
    }
  }
}

/**
 * Creates a segment crash-safely: header into a temp file, fsync, rename into place, fsync the directory. A crash
 * before the rename leaves only a temp file (removed on the next open); after it, a complete, empty segment.
 */
export function createSegment(
  dir: string,
  options: WalOptions,
  header: { firstLsn: number; previousHash: Uint8Array; epoch: number },
  catalog: SegmentCatalog,
): SegmentInfo {
  const { io } = options
  const name = segmentName(header.firstLsn)
  const path = join(dir, name)
  const tempPath = path + SEGMENT_TEMP_SUFFIX
  const fd = io.openAppend(tempPath)
  try {
    io.truncate(fd, 0)
    io.write(fd, encodeSegmentHeader(header), 0)
    io.fsync(fd)
  } finally {
    io.close(fd)
  }
  io.rename(tempPath, path)
  io.fsyncDirectory(dir)
  const segment: SegmentInfo = {
    path,
    name,
    firstLsn: header.firstLsn,
    lastLsn: header.firstLsn - 1,
    sizeBytes: SEGMENT_HEADER_BYTES,
    previousHash: header.previousHash.slice(),
    index: [],
    indexed: true,
  }
  catalog.add(segment)
  return segment
}
