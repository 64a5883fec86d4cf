/**
 * Opening a log: list its segments, check they are contiguous, scan every frame (CRC, dense LSN, epochs, chain),
 * rebuild the sparse index, and deal with a torn tail.
 *
 * With a chain anchor (a restart from a snapshot at LSN n, whose stored chain head is checked against frame n when
 * it is loaded), sealed segments wholly below n are not read — only their headers and their last frames (so a segment
 * missing between them is still SEGMENT_MISSING: segment-end.ts) — and the chain is verified
 * from frame n's stored hash onwards; `verifyChainTo` checks the skipped part later (a fallback to an older snapshot
 * or to genesis), and `egress audit verify` / `replay-verify` always check everything. A writable open truncates a torn tail (it was never
 * acknowledged: the frames before it were fsynced before any ack, the torn bytes were not); a read-only open leaves
 * the files untouched and reports what it would truncate. A hole in the last segment that a power cut's lost write of the
 * batch in flight explains (lost-write.ts) is such a tail too, cut with the valid frames past it. Before it cuts, a
 * writable open runs its caller's guard (tail-cut.ts): the data dir's proof that the frames were durable refuses the
 * cut, and the removed bytes are set aside first. A log whose last frame says more of its append follows (frame.ts)
 * ends in an append that never reached the disk whole: its frames that did are cut the same way, so a decision is in
 * the log whole or not at all. Every other kind of damage refuses to open.
 */

import { join } from 'node:path'
import { SegmentCatalog, type SegmentInfo } from './catalog.ts'
import { hashesEqual, toHex } from './chain.ts'
import { SyncFailedError, WalCorruptionError, WalFatalError, WalSegmentUnreadableError } from './errors.ts'
import { readFully, type WalIo } from './io.ts'
import { ReadBuffer } from './read-buffer.ts'
import { initialPosition, scanSegment, type ChainPosition, type OpenAppend, type SegmentSource } from './scan.ts'
import { probeSealedSegmentEnd } from './segment-end.ts'
import { syncFailuresMarked } from './sync-failures.ts'
import { guardTailCut, type TailCutGuard } from './tail-cut.ts'
import { SEGMENT_HEADER_BYTES, decodeSegmentHeader, isSegmentTempName, parseSegmentName, segmentName, type SegmentHeader } from './segment.ts'
import type { Frame } from './frame.ts'

export interface RecoveryReport {
  segmentCount: number
  frameCount: number
  /**
   * Set when a torn tail was found: truncated on a writable open, only reported on a read-only one. `lsn` is the first
   * LSN it removes (the log ends at lsn - 1); `validFramesRemoved` counts CRC-valid frames past a hole that a power
   * cut's lost write left in the batch in flight (lost-write.ts), removed with it (0 for a plain torn tail).
   */
  tornTail: {
    file: string
    offsetBytes: number
    removedBytes: number
    reason: string
    truncated: boolean
    lsn: number
    validFramesRemoved: number
    /** Whole frames of an append whose last frame never reached the disk, cut with the tail (frame.ts); else 0. */
    appendFramesRemoved: number
    quarantineFile: string | null
  } | null
  /** Sealed segments below the chain anchor whose frames were not read on open (0 without an anchor). */
  skippedSegments: number
  /** Zero-filled bytes after the last frame: space the writer preallocated, not damage. Trimmed on a writable open. */
  preallocatedBytes: number
  removedTempFiles: string[]
}

export interface RecoverOptions {
  io: WalIo
  writable: boolean
  verifyChain: boolean
  indexStrideFrames: number
  /**
   * 0: every frame is CRC- and chain-checked. n > 0: frame n's stored hash is trusted as the chain head (a caller
   * checks it against a snapshot's); segments wholly below n are skipped, the chain is verified after n.
   */
  chainAnchorLsn?: number
  /**
   * The most bytes one batch spans (the writer's batchBytesMax): a hole in the last segment within that many bytes of
   * its last valid frame that a lost write explains is cut as a torn tail (lost-write.ts). 0: never.
   */
  lostWriteWindowBytes: number
  /** On a writable open, what is checked and set aside before a torn tail is cut (tail-cut.ts). */
  tailCut?: TailCutGuard
  /** Optional observer of every frame scanned (progress bars, offline verification); the frame is valid during the call. */
  onFrame?: (frame: Frame, file: string, offsetBytes: number) => void
}

export interface RecoveredLog {
  catalog: SegmentCatalog
  position: ChainPosition
  report: RecoveryReport
  /**
   * In the last segment, the file offset of the first frame of the log's last append (scan.ts; after a cut, where the
   * cut append began, so the log's end); -1 when the last segment holds no frame.
   */
  lastAppendOffsetBytes: number
}

export function recoverLog(dir: string, options: RecoverOptions): RecoveredLog {
  const { io } = options
  const names = io.readdir(dir)
  const removedTempFiles = removeTempFiles(dir, names, options)
  const firstLsns = names
    .map((name) => parseSegmentName(name))
    .filter((lsn): lsn is number => lsn !== null)
    .sort((a, b) => a - b)
  const catalog = new SegmentCatalog(options.indexStrideFrames)
  const report: RecoveryReport = { segmentCount: firstLsns.length, frameCount: 0, tornTail: null, skippedSegments: 0, preallocatedBytes: 0, removedTempFiles }
  const anchorLsn = options.chainAnchorLsn ?? 0
  let position: ChainPosition = initialPosition()
  let linkKnown = true
  const buffer = new ReadBuffer()
  const tail = { lastAppendOffsetBytes: -1 }
  for (let index = 0; index < firstLsns.length; index++) {
    const firstLsn = firstLsns[index] as number
    const nextFirstLsn = firstLsns[index + 1]
    const context = { catalog, position, report, isLast: nextFirstLsn === undefined, isFirst: index === 0, linkKnown, buffer, tail }
    if (nextFirstLsn !== undefined && nextFirstLsn - 1 < anchorLsn) {
      position = skipSegment(dir, { firstLsn, nextFirstLsn }, context, options)
      linkKnown = false
      continue
    }
    position = recoverSegment(dir, firstLsn, context, { ...options, verifyChainAfterLsn: anchorLsn })
    linkKnown = true
  }
  return { catalog, position, report, lastAppendOffsetBytes: tail.lastAppendOffsetBytes }
}

function removeTempFiles(dir: string, names: string[], options: RecoverOptions): string[] {
  const temps = names.filter(isSegmentTempName)
  if (!options.writable || temps.length === 0) return temps
  // A temp file is a segment roll that crashed before its rename: it never held an acknowledged frame.
  for (const name of temps) options.io.unlink(join(dir, name))
  // A failed fsync here and in truncateTail is FSYNC_FAILED, as the open's own sync is (open-sync.ts), never a raw errno
  // no caller takes for one: the open fails, and the process recovers by opening again, which makes the same repair.
  syncFailuresMarked(options.io, { during: "at open, after removing a crashed roll's temp files" }).fsyncDirectory(dir)
  return temps
}

interface SegmentContext {
  catalog: SegmentCatalog
  position: ChainPosition
  report: RecoveryReport
  isLast: boolean
  isFirst: boolean
  /** False after a skipped segment: its last hash is unknown, so the next header's previous hash is taken as is. */
  linkKnown: boolean
  /** Where segments are read, one after the other. */
  buffer: ReadBuffer
  /** Set from the last segment's scan (RecoveredLog.lastAppendOffsetBytes). */
  tail?: { lastAppendOffsetBytes: number }
}

/** Reads and checks the header of the segment open as `fd` (its first LSN must be the one its name says). */
export function readHeader(io: WalIo, fd: number, path: string, firstLsn: number): SegmentHeader {
  const header = decodeSegmentHeader(readFully(io, fd, 0, SEGMENT_HEADER_BYTES))
  const at = { file: path, offsetBytes: 0, lsn: firstLsn }
  if (typeof header === 'string') throw new WalCorruptionError('SEGMENT_HEADER_CORRUPT', at, header)
  if (header.firstLsn !== firstLsn) {
    throw new WalCorruptionError('SEGMENT_HEADER_CORRUPT', at, `header says first LSN ${header.firstLsn}, name says ${firstLsn}`)
  }
  return header
}

/**
 * Runs `use` with `path` open for reading and its size; closes it after. A system call that fails on the file (open,
 * stat, read) is WalSegmentUnreadableError naming it; the log's own refusals pass as they are.
 */
function withSegmentFile<T>(io: WalIo, path: string, use: (fd: number, sizeBytes: number) => T): T {
  let fd: number
  try {
    fd = io.openRead(path)
  } catch (error) {
    throw unreadable(path, error)
  }
  try {
    return use(fd, io.sizeBytes(fd))
  } catch (error) {
    throw unreadable(path, error)
  } finally {
    io.close(fd)
  }
}

/** The system calls whose failure means the segment cannot be read (a failed truncate or fsync is not that). */
const READ_SYSCALLS: ReadonlySet<string> = new Set(['open', 'read', 'fstat', 'stat'])

/** A failed read of `path` as WalSegmentUnreadableError; anything else (the log's own errors, writes) unchanged. */
function unreadable(path: string, error: unknown): unknown {
  const syscall = (error as { syscall?: unknown } | null)?.syscall
  return error instanceof Error && typeof syscall === 'string' && READ_SYSCALLS.has(syscall) ? new WalSegmentUnreadableError(path, error) : error
}

/** Where the chain stands at the start of a segment, checking it follows the segment before (when that is known). */
function positionBefore(path: string, firstLsn: number, header: SegmentHeader, context: SegmentContext): ChainPosition {
  const at = { file: path, offsetBytes: 0, lsn: firstLsn }
  // The first segment anchors the chain (genesis, or after compaction the head stored in its header).
  const position = context.isFirst ? initialPosition(firstLsn, header.previousHash) : context.position
  if (firstLsn !== position.lastLsn + 1) {
    throw new WalCorruptionError('SEGMENT_MISSING', at, `previous segment ends at LSN ${position.lastLsn}; LSNs ${position.lastLsn + 1}..${firstLsn - 1} are missing`)
  }
  if (!context.linkKnown) {
    // After a skipped segment its last hash and epoch are unknown: the header's are taken (the epoch as a lower bound).
    position.lastHash.set(header.previousHash)
    position.lastEpoch = Math.max(position.lastEpoch, header.epoch)
  } else if (!hashesEqual(header.previousHash, position.lastHash)) {
    throw new WalCorruptionError('CHAIN_BREAK', at, `segment header chains from ${toHex(header.previousHash)}, log head is ${toHex(position.lastHash)}`)
  }
  return position
}

/**
 * A sealed segment below the chain anchor: its header and its last frame are read (segment-end.ts), not its frames,
 * which are indexed when first read. Its last LSN is the one the next segment's name implies only when the file says
 * so — its last frame has that LSN and the hash the next segment's header chains from: a segment missing after it
 * then fails the next segment's open as SEGMENT_MISSING naming the LSNs, as a full open fails it. Otherwise (no last
 * frame found where a sealed segment ends, or another LSN or hash: damage, or a false frame in a long payload's tail)
 * the segment is scanned whole and that scan decides (and refuses what a full open refuses).
 */
function skipSegment(dir: string, lsns: { firstLsn: number; nextFirstLsn: number }, context: SegmentContext, options: RecoverOptions): ChainPosition {
  const { io } = options
  const { firstLsn, nextFirstLsn } = lsns
  const path = join(dir, segmentName(firstLsn))
  return withSegmentFile(io, path, (fd, sizeBytes) => {
    const header = readHeader(io, fd, path, firstLsn)
    const position = positionBefore(path, firstLsn, header, context)
    const probed = probeSealedSegmentEnd(io, fd, { sizeBytes, firstLsn, previousHash: header.previousHash })
    const trusted = probed !== null && probed.lastLsn === nextFirstLsn - 1 && hashesEqual(probed.lastHash, nextHeaderOf(dir, nextFirstLsn, io).previousHash)
    const lastLsn = trusted ? nextFirstLsn - 1 : scannedLastLsn({ io, fd, sizeBytes, buffer: context.buffer }, path, header)
    context.catalog.add({ path, name: segmentName(firstLsn), firstLsn, lastLsn, sizeBytes, previousHash: header.previousHash, index: [], indexed: false })
    context.report.skippedSegments++
    position.lastLsn = lastLsn
    return position
  })
}

/** The header of the segment after a skipped one (read again when that segment's turn comes: 64 bytes). */
function nextHeaderOf(dir: string, firstLsn: number, io: WalIo): SegmentHeader {
  const path = join(dir, segmentName(firstLsn))
  return withSegmentFile(io, path, (fd) => readHeader(io, fd, path, firstLsn))
}

/** The last LSN of a sealed segment by a scan of all its frames (CRC, dense LSNs; the chain is not checked here). */
function scannedLastLsn(source: SegmentSource, path: string, header: SegmentHeader): number {
  const position = initialPosition(header.firstLsn, header.previousHash)
  scanSegment(source, { file: path, startOffsetBytes: SEGMENT_HEADER_BYTES, position, verifyChain: false, isLast: false })
  return position.lastLsn
}

function recoverSegment(dir: string, firstLsn: number, context: SegmentContext, options: RecoverOptions & { verifyChainAfterLsn: number }): ChainPosition {
  const { io } = options
  const { catalog, report, isLast } = context
  const name = segmentName(firstLsn)
  const path = join(dir, name)
  return withSegmentFile(io, path, (fd, sizeBytes) => {
    const header = readHeader(io, fd, path, firstLsn)
    const position = positionBefore(path, firstLsn, header, context)
    const segment: SegmentInfo = { path, name, firstLsn, lastLsn: firstLsn - 1, sizeBytes: 0, previousHash: header.previousHash, index: [], indexed: true }
    const observer = options.onFrame
    const scan = scanSegment({ io, fd, sizeBytes, buffer: context.buffer }, {
      file: path,
      startOffsetBytes: SEGMENT_HEADER_BYTES,
      position,
      verifyChain: options.verifyChain,
      verifyChainAfterLsn: options.verifyChainAfterLsn,
      isLast,
      lostWriteWindowBytes: options.lostWriteWindowBytes,
      onFrame: (lsn, offsetBytes, previousHash) => catalog.noteFrame(segment, lsn, offsetBytes, previousHash),
      ...(observer === undefined ? {} : { observe: (frame: Frame, offsetBytes: number) => observer(frame, path, offsetBytes) }),
    })
    segment.sizeBytes = scan.validEndBytes
    report.frameCount += scan.frameCount
    if (isLast && context.tail !== undefined) context.tail.lastAppendOffsetBytes = scan.lastAppendOffsetBytes
    const open = isLast ? scan.openAppend : null
    if (open !== null) cutOpenAppend(path, open, { segment, position, report })
    const torn = scan.tornTail
    if (torn !== null || open !== null) {
      const removedBytes = sizeBytes - segment.sizeBytes
      if (open === null && torn !== null && torn.allZero) report.preallocatedBytes = removedBytes
      else {
        const reason = open === null ? (torn?.reason as string) : torn === null || torn.allZero ? APPEND_INCOMPLETE : `${torn.reason}, ${APPEND_INCOMPLETE}`
        const validFramesRemoved = torn?.validFramesBeyond ?? 0
        const appendFramesRemoved = open?.frameCount ?? 0
        report.tornTail = { file: path, offsetBytes: segment.sizeBytes, removedBytes, reason, truncated: options.writable, lsn: position.lastLsn + 1, validFramesRemoved, appendFramesRemoved, quarantineFile: null }
        if (options.writable) {
          const cut = { file: path, offsetBytes: segment.sizeBytes, removedBytes, lastGoodLsn: position.lastLsn, reason }
          report.tornTail.quarantineFile = guardTailCut(io, options.tailCut, cut)
        }
      }
      if (options.writable) truncateTail(io, path, segment.sizeBytes, report.tornTail)
    }
    catalog.add(segment)
    return position
  })
}

/** A cut tail's reason when it holds (or is) the frames of an append whose last frame never reached the disk. */
export const APPEND_INCOMPLETE = 'its append incomplete'

/**
 * The last segment ends inside an append (scan.ts's OpenAppend): its frames that reached the disk are no part of the
 * log. They come off the segment as a torn tail does: the log, its chain head and the catalog end before them.
 */
function cutOpenAppend(path: string, open: OpenAppend, log: { segment: SegmentInfo; position: ChainPosition; report: RecoveryReport }): void {
  const { segment, position, report } = log
  if (open.offsetBytes < 0) {
    throw new WalCorruptionError('APPEND_SPLIT', { file: path, offsetBytes: 0, lsn: position.lastLsn + 1 }, `the log ends at LSN ${position.lastLsn} inside an append begun in an earlier segment; a writer rolls only between appends`)
  }
  segment.sizeBytes = open.offsetBytes
  segment.lastLsn = open.lsn - 1
  while ((segment.index.at(-1)?.lsn ?? 0) >= open.lsn) segment.index.pop()
  position.lastLsn = open.lsn - 1
  position.lastHash.set(open.previousHash)
  position.lastEpoch = open.previousEpoch
  position.appendOpen = false
  report.frameCount -= open.frameCount
}

/**
 * Cuts the last segment to `lengthBytes` and syncs it. A failed sync names the cut it made (`torn`, the report's): the
 * truncate has usually taken effect, so the next open finds no torn tail and reports none; this error is the only
 * place the cut is told, beside its quarantine file.
 */
function truncateTail(io: WalIo, path: string, lengthBytes: number, torn: RecoveryReport['tornTail']): void {
  let fd: number
  try {
    fd = io.openAppend(path)
  } catch (error) {
    throw cutFailed(path, lengthBytes, error)
  }
  try {
    try {
      io.truncate(fd, lengthBytes)
    } catch (error) {
      throw cutFailed(path, lengthBytes, error)
    }
    try {
      io.fsync(fd)
    } catch (error) {
      const cut = torn === null ? '' : ` (${torn.removedBytes} bytes from LSN ${torn.lsn} on: ${torn.reason}${torn.quarantineFile === null ? '' : `; kept in ${torn.quarantineFile}`})`
      throw new SyncFailedError(path, error, { during: `at open, after cutting the torn tail at ${lengthBytes} bytes${cut}`, then: 'the next open may find the cut already made and report none' })
    }
  } finally {
    io.close(fd)
  }
}

/**
 * The torn tail could not be cut (its segment not opened for writing, or not truncated: EROFS, EACCES, EIO): the open
 * refuses with the log's own code (WAL_FATAL) naming the cut, where a raw errno came out. Nothing was cut.
 */
function cutFailed(path: string, lengthBytes: number, error: unknown): WalFatalError {
  return new WalFatalError(`cutting the torn tail of ${path} at ${lengthBytes} bytes failed (${error instanceof Error ? error.message : String(error)}); nothing was cut, and the log does not open until it can be`, { cause: error })
}

/**
 * Verifies CRC, LSNs and the chain of every frame from the catalog's first LSN through the segment holding `toLsn`
 * (what an anchored open skipped), checking each segment header links to the frames before it. Skipped segments get
 * their sparse index on the way. Throws WalCorruptionError like an open would.
 */
export function verifyChainTo(catalog: SegmentCatalog, io: WalIo, toLsn: number): void {
  const first = catalog.segments[0]
  if (first === undefined) return
  const position = initialPosition(first.firstLsn, first.previousHash)
  const buffer = new ReadBuffer()
  for (const segment of catalog.segments) {
    if (segment.firstLsn > toLsn) break
    withSegmentFile(io, segment.path, (fd) => {
      const header = readHeader(io, fd, segment.path, segment.firstLsn)
      positionBefore(segment.path, segment.firstLsn, header, { catalog, position, report: emptyReport(), isLast: false, isFirst: false, linkKnown: true, buffer })
      const indexing = !segment.indexed
      if (indexing) segment.index.length = 0
      // The catalog's size, not the file's: the live segment may have grown since.
      scanSegment({ io, fd, sizeBytes: segment.sizeBytes, buffer }, {
        file: segment.path,
        startOffsetBytes: SEGMENT_HEADER_BYTES,
        position,
        verifyChain: true,
        isLast: false,
        ...(indexing ? { onFrame: (lsn: number, offsetBytes: number, previousHash: Uint8Array) => catalog.noteFrame(segment, lsn, offsetBytes, previousHash) } : {}),
      })
    })
    if (position.lastLsn !== segment.lastLsn) {
      throw new WalCorruptionError('FRAME_CORRUPT', { file: segment.path, offsetBytes: segment.sizeBytes, lsn: position.lastLsn + 1 }, `segment ends at LSN ${position.lastLsn}, expected ${segment.lastLsn}`)
    }
    segment.indexed = true
  }
}

function emptyReport(): RecoveryReport {
  return { segmentCount: 0, frameCount: 0, tornTail: null, skippedSegments: 0, preallocatedBytes: 0, removedTempFiles: [] }
}
