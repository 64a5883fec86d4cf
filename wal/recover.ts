/**
 * Opening a log: list its segments, check they are contiguous, scan every frame (CRC, dense LSN, epochs, chain),
 * rebuild the sparse index, and deal with a torn tail. A writable open truncates a torn tail (it was never
 * acknowledged: the frames before it were fsynced before any ack, the torn bytes were not); a read-only open leaves
 * the files untouched and reports what it would truncate. Every other kind of damage refuses to open.
 */

import { join } from 'node:path'
import { SegmentCatalog, type SegmentInfo } from './catalog.ts'
import { hashesEqual, toHex } from './chain.ts'
import { WalCorruptionError } from './errors.ts'
import { readFully, type WalIo } from './io.ts'
import { initialPosition, scanFrames, type ChainPosition } from './scan.ts'
import { SEGMENT_HEADER_BYTES, SEGMENT_TEMP_SUFFIX, decodeSegmentHeader, parseSegmentName } from './segment.ts'
import type { Frame } from './frame.ts'

export interface RecoveryReport {
  segmentCount: number
  frameCount: number
  /** Set when a torn tail was found: truncated on a writable open, only reported on a read-only one. */
  tornTail: { file: string; offsetBytes: number; removedBytes: number; reason: string; truncated: boolean } | null
  /** Zero-filled bytes after the last frame: space the writer preallocated, not damage. Trimmed on a writable open. */
  preallocatedBytes: number
  removedTempFiles: string[]
}

export interface RecoverOptions {
  io: WalIo
  writable: boolean
  verifyChain: boolean
  indexStrideFrames: number
  /** Optional observer of every frame scanned (progress bars, offline verification). */
  onFrame?: (frame: Frame, file: string, offsetBytes: number) => void
}

export interface RecoveredLog {
  catalog: SegmentCatalog
  position: ChainPosition
  report: RecoveryReport
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
  const report: RecoveryReport = { segmentCount: firstLsns.length, frameCount: 0, tornTail: null, preallocatedBytes: 0, removedTempFiles }
  let position: ChainPosition = initialPosition()
  for (let index = 0; index < firstLsns.length; index++) {
    const firstLsn = firstLsns[index] as number
    const isLast = index === firstLsns.length - 1
    position = recoverSegment(dir, firstLsn, { catalog, position, report, isLast, isFirst: index === 0 }, options)
  }
  return { catalog, position, report }
}

function removeTempFiles(dir: string, names: string[], options: RecoverOptions): string[] {
  const temps = names.filter((name) => name.endsWith(SEGMENT_TEMP_SUFFIX))
  if (!options.writable || temps.length === 0) return temps
  // A temp file is a segment roll that crashed before its rename: it never held an acknowledged frame.
  for (const name of temps) options.io.unlink(join(dir, name))
  options.io.fsyncDirectory(dir)
  return temps
}

interface SegmentContext {
  catalog: SegmentCatalog
  position: ChainPosition
  report: RecoveryReport
  isLast: boolean
  isFirst: boolean
}

function recoverSegment(dir: string, firstLsn: number, context: SegmentContext, options: RecoverOptions): ChainPosition {
  const { io } = options
  const { catalog, report, isLast } = context
  const name = `${String(firstLsn).padStart(20, '0')}.seg`
  const path = join(dir, name)
  const fd = io.openRead(path)
  let bytes: Uint8Array
  try {
    bytes = readFully(io, fd, 0, io.sizeBytes(fd))
  } finally {
    io.close(fd)
  }
  const header = decodeSegmentHeader(bytes)
  const at = { file: path, offsetBytes: 0, lsn: firstLsn }
  if (typeof header === 'string') throw new WalCorruptionError('SEGMENT_HEADER_CORRUPT', at, header)
  if (header.firstLsn !== firstLsn) {
    throw new WalCorruptionError('SEGMENT_HEADER_CORRUPT', at, `header says first LSN ${header.firstLsn}, name says ${firstLsn}`)
  }
  // The first segment anchors the chain (genesis, or after compaction the head stored in its header).
  const position = context.isFirst ? initialPosition(firstLsn, header.previousHash) : context.position
  if (firstLsn !== position.lastLsn + 1) {
    throw new WalCorruptionError('SEGMENT_MISSING', at, `previous segment ends at LSN ${position.lastLsn}; LSNs ${position.lastLsn + 1}..${firstLsn - 1} are missing`)
  }
  if (!hashesEqual(header.previousHash, position.lastHash)) {
    throw new WalCorruptionError('CHAIN_BREAK', at, `segment header chains from ${toHex(header.previousHash)}, log head is ${toHex(position.lastHash)}`)
  }
  const segment: SegmentInfo = { path, name, firstLsn, lastLsn: firstLsn - 1, sizeBytes: 0, previousHash: header.previousHash, index: [] }
  const scan = scanFrames(bytes, {
    file: path,
    startOffsetBytes: SEGMENT_HEADER_BYTES,
    position,
    verifyChain: options.verifyChain,
    isLast,
    onFrame: (frame, offsetBytes, previousHash) => {
      catalog.noteFrame(segment, frame.lsn, offsetBytes, previousHash)
      options.onFrame?.(frame, path, offsetBytes)
    },
  })
  segment.sizeBytes = scan.validEndBytes
  report.frameCount += scan.frameCount
  if (scan.tornTail !== null) {
    const removedBytes = bytes.byteLength - scan.validEndBytes
    if (allZero(bytes, scan.validEndBytes)) report.preallocatedBytes = removedBytes
    else report.tornTail = { file: path, offsetBytes: scan.validEndBytes, removedBytes, reason: scan.tornTail.reason, truncated: options.writable }
    if (options.writable) truncateTail(io, path, scan.validEndBytes)
  }
  catalog.add(segment)
  return position
}

function allZero(bytes: Uint8Array, from: number): boolean {
  for (let index = from; index < bytes.byteLength; index++) if (bytes[index] !== 0) return false
  return true
}

function truncateTail(io: WalIo, path: string, lengthBytes: number): void {
  const fd = io.openAppend(path)
  try {
    io.truncate(fd, lengthBytes)
    io.fsync(fd)
  } finally {
    io.close(fd)
  }
}
