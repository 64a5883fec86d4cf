/**
 * Scanning a segment's frames with full checks: CRC, dense LSNs, non-decreasing epochs and (optionally) the chain.
 * Used on open (recovery) and by the chain check of what an anchored open skipped. Damage is classified here, once:
 *
 * - in the last segment, a bad frame with no valid frame anywhere after it is a torn tail (a write that never
 *   completed, so never acknowledged): reported so the writer can truncate it; so is a bad frame with valid ones after
 *   it that a power cut's lost write of the batch in flight explains (lost-write.ts says exactly when);
 * - anything else — a bad frame followed by a valid one, a valid frame out of place, a chain break, an epoch going
 *   backwards — is corruption and throws, naming file, offset and LSN. Never skipped, never guessed around.
 *
 * It also follows the append flag (frame.ts): a segment whose last valid frame has it ends inside an append, and the
 * result says where that append began (`openAppend`) for recover.ts to cut.
 *
 * A segment is read in chunks through one reused buffer (a 64 MiB segment read whole meant 64 MiB of fresh pages to
 * fault in per segment); only when a frame fails is the rest of the segment read whole, to tell a torn tail from
 * damage followed by valid frames.
 */

import { GENESIS_HASH, HASH_BYTES } from './chain.ts'
import { assert } from './assert.ts'
import { WalCorruptionError } from './errors.ts'
import { FRAME_HEADER_BYTES, PAYLOAD_BYTES_MAX, type Frame } from './frame.ts'
import {
  FRAME_SHORT,
  chainHolds,
  continuesAt,
  copyStoredHash,
  crcHolds,
  epochAt,
  frameBody,
  frameBytesAt,
  frameViewAt,
  lengthProblem,
  lsnAt,
  type FrameProblem,
} from './frame-check.ts'
import { FrameSearchBudget, SEARCH_GAVE_UP, findValidFrameAfter } from './frame-search.ts'
import { readFully, type WalIo } from './io.ts'
import { lostWriteAt } from './lost-write.ts'
import type { ReadBuffer } from './read-buffer.ts'

/** A scan's read size: at least one frame of the largest size, so every chunk holds a whole frame. */
export const SCAN_CHUNK_BYTES = Math.max(4 * 1024 * 1024, FRAME_HEADER_BYTES + PAYLOAD_BYTES_MAX)

/** Where the chain stands after the frames seen so far. */
export interface ChainPosition {
  /** The last LSN seen (firstLsn - 1 before any frame). */
  lastLsn: number
  /** The chain hash at lastLsn (a copy owned by the position). */
  lastHash: Uint8Array
  lastEpoch: number
  /** The frame at lastLsn has FRAME_APPEND_CONTINUES: its append's later frames are still to come (frame.ts). */
  appendOpen: boolean
}

export interface ScanOptions {
  file: string
  /** Byte offset of the first frame in the file (after the segment header). */
  startOffsetBytes: number
  position: ChainPosition
  verifyChain: boolean
  /** With verifyChain, frames up to this LSN are not chain-checked: their stored hash is taken as the head (0: all). */
  verifyChainAfterLsn?: number
  /** Is this the log's last segment (the only place a torn tail may be)? */
  isLast: boolean
  /**
   * The most bytes a batch in flight can span (the writer's batchBytesMax): in the last segment, a bad frame with valid
   * frames after it that a lost write of such a batch explains is a torn tail too (lost-write.ts). 0 or unset: never.
   */
  lostWriteWindowBytes?: number
  /** Called for every valid frame with its LSN, its byte offset in the file and the chain head before it (borrowed). */
  onFrame?: (lsn: number, offsetBytes: number, previousHash: Uint8Array) => void
  /** Called for every valid frame with a view of it, valid during the call (only built when set). */
  observe?: (frame: Frame, offsetBytes: number) => void
}

export interface ScanResult {
  frameCount: number
  /** End of the last valid frame. */
  validEndBytes: number
  /** Set when the last segment ends in a torn or garbage tail that should be truncated at validEndBytes. */
  tornTail: TornTail | null
  /**
   * Set when the last valid frame has FRAME_APPEND_CONTINUES: the rest of its append never reached the disk, so the
   * append's frames that did are no part of the log (frame.ts); recover.ts cuts them with the tail.
   */
  openAppend: OpenAppend | null
  /**
   * File offset of the first frame of the last append that begins in this segment (the open one, if any); -1 when no
   * frame does. A writable open writes the log's last batch again from no later than here (open-sync.ts).
   */
  lastAppendOffsetBytes: number
}

/** Where the append left open at a scan's end begins (only frames with the flag read so far belong to it). */
export interface OpenAppend {
  /** File offset of its first frame; -1 when it began in an earlier segment. */
  offsetBytes: number
  /** Its first frame's LSN (0 when it began in an earlier segment). */
  lsn: number
  /** The chain head and epoch before its first frame: where the log stands once it is cut. */
  previousHash: Uint8Array
  previousEpoch: number
  /** Its frames in this segment. */
  frameCount: number
}

export interface TornTail {
  offsetBytes: number
  reason: FrameProblem
  /** Every byte from offsetBytes to the end is zero: space the writer preallocated, not a torn write. */
  allZero: boolean
  /** CRC-valid frames after the bad one that the cut removes with it (a lost write in the batch in flight); else 0. */
  validFramesBeyond: number
}

/** The segment file to scan: open as `fd`, `sizeBytes` long (what is scanned), read through `buffer`. */
export interface SegmentSource {
  io: WalIo
  fd: number
  sizeBytes: number
  buffer: ReadBuffer
}

export function initialPosition(firstLsn = 1, previousHash: Uint8Array = GENESIS_HASH): ChainPosition {
  return { lastLsn: firstLsn - 1, lastHash: previousHash.slice(), lastEpoch: 0, appendOpen: false }
}

export function scanSegment(source: SegmentSource, options: ScanOptions): ScanResult {
  const { io, fd, sizeBytes, buffer } = source
  const scratchHash = new Uint8Array(HASH_BYTES)
  let position = options.startOffsetBytes
  let frameCount = 0
  const openAppend: OpenAppend = { offsetBytes: -1, lsn: 0, previousHash: new Uint8Array(HASH_BYTES), previousEpoch: 0, frameCount: 0 }
  const ended = (): OpenAppend | null => (options.position.appendOpen ? openAppend : null)
  const lastAppend = { offsetBytes: -1 }
  while (position < sizeBytes) {
    const wanted = Math.min(SCAN_CHUNK_BYTES, sizeBytes - position)
    const chunk = buffer.fill(io, fd, position, wanted)
    // More frames lie past this chunk only if it stopped short of the end by its own length (a file shorter than
    // its size says ends here: the frame cut off by it fails as short).
    const more = chunk.byteLength === wanted && wanted < sizeBytes - position
    const walked = walkFrames(chunk, buffer.dataView, { baseOffsetBytes: position, more, scratchHash, openAppend, lastAppend }, options)
    frameCount += walked.frameCount
    position += walked.endBytes
    if (walked.problem !== null) {
      const rest = readFully(io, fd, position, sizeBytes - position)
      return { frameCount, validEndBytes: position, tornTail: tornTailAt(rest, position, walked.problem, options), openAppend: ended(), lastAppendOffsetBytes: lastAppend.offsetBytes }
    }
    assert(walked.endBytes > 0, 'every scan chunk holds a whole frame')
  }
  return { frameCount, validEndBytes: position, tornTail: null, openAppend: ended(), lastAppendOffsetBytes: lastAppend.offsetBytes }
}

interface Walk {
  /** File offset of the chunk's first byte. */
  baseOffsetBytes: number
  /** Does the segment continue past the chunk (a frame cut off at its end is read again with the next chunk)? */
  more: boolean
  scratchHash: Uint8Array
  /** Where the append open at the last frame began (kept up to date only while one is open). */
  openAppend: OpenAppend
  /** Where the last append seen began (ScanResult.lastAppendOffsetBytes). */
  lastAppend: { offsetBytes: number }
}

/** Checks the frames of one chunk; stops at its end, at a frame it cuts off, or at a bad frame (its problem). */
function walkFrames(chunk: Uint8Array, view: DataView, walk: Walk, options: ScanOptions): { frameCount: number; endBytes: number; problem: FrameProblem | null } {
  const { file, position, verifyChain, onFrame, observe } = options
  const verifyAfterLsn = options.verifyChainAfterLsn ?? 0
  const { baseOffsetBytes, more, scratchHash, openAppend, lastAppend } = walk
  const limit = chunk.byteLength
  let offset = 0
  let frameCount = 0
  while (offset < limit) {
    const frameBytes = frameBytesAt(view, offset, limit)
    if (frameBytes === FRAME_SHORT && more) break
    const body = frameBytes < 0 ? null : frameBody(chunk, offset, frameBytes)
    if (body === null || !crcHolds(view, offset, body)) return { frameCount, endBytes: offset, problem: frameBytes < 0 ? lengthProblem(frameBytes) : 'crc' }
    const lsn = lsnAt(view, offset)
    const epoch = epochAt(view, offset)
    checkOrder(lsn, epoch, baseOffsetBytes + offset, options)
    if (verifyChain && lsn > verifyAfterLsn && !chainHolds(chunk, offset, body, position.lastHash, scratchHash)) {
      throw new WalCorruptionError(
        'CHAIN_BREAK',
        { file, offsetBytes: baseOffsetBytes + offset, lsn },
        'the frame hash does not follow from the previous frame (content edited after writing?)',
      )
    }
    onFrame?.(lsn, baseOffsetBytes + offset, position.lastHash)
    if (observe !== undefined) observe(frameViewAt(chunk, view, offset, frameBytes), baseOffsetBytes + offset)
    const continues = continuesAt(view, offset)
    if (!position.appendOpen) lastAppend.offsetBytes = baseOffsetBytes + offset
    if (continues && !position.appendOpen) {
      openAppend.offsetBytes = baseOffsetBytes + offset
      openAppend.lsn = lsn
      openAppend.previousHash.set(position.lastHash)
      openAppend.previousEpoch = position.lastEpoch
      openAppend.frameCount = 0
    }
    if (position.appendOpen || continues) openAppend.frameCount++
    position.appendOpen = continues
    position.lastLsn = lsn
    copyStoredHash(chunk, offset, position.lastHash)
    position.lastEpoch = epoch
    frameCount++
    offset += frameBytes
  }
  return { frameCount, endBytes: offset, problem: null }
}

/**
 * The frame at file offset `offsetBytes` failed its `problem` check; `rest` holds the segment from there to its end.
 * In the last segment with no valid frame after it, or with valid frames after it that a lost write of the batch in
 * flight explains (lost-write.ts), that is a torn tail (returned); anything else throws, and so does a search for a
 * valid frame after it that gives up (frame-search.ts): what it could not look at may hold acknowledged frames.
 */
function tornTailAt(rest: Uint8Array, offsetBytes: number, problem: FrameProblem, options: ScanOptions): TornTail {
  const budget = new FrameSearchBudget(rest.byteLength)
  const later = findValidFrameAfter(rest, 1, { afterLsn: options.position.lastLsn, budget })
  if (later === SEARCH_GAVE_UP) {
    throw new WalCorruptionError(
      'FRAME_CORRUPT',
      { file: options.file, offsetBytes, lsn: options.position.lastLsn + 1 },
      `frame fails its ${problem} check and the search for a valid frame after it gave up after ${budget.describe()} (crafted bytes?): not judged a torn tail`,
    )
  }
  if (later === null && options.isLast) return { offsetBytes, reason: problem, allZero: allZero(rest), validFramesBeyond: 0 }
  const windowBytes = options.lostWriteWindowBytes ?? 0
  const lost = later !== null && options.isLast && windowBytes > 0 ? lostWriteAt(rest, offsetBytes, { position: options.position, windowBytes, budget, firstFrameAt: later.offsetBytes }) : null
  if (lost !== null) return { offsetBytes, reason: problem, allZero: false, validFramesBeyond: lost.validFramesBeyond }
  throw new WalCorruptionError(
    later !== null ? 'FRAME_CORRUPT' : 'SEGMENT_TRAILING_BYTES',
    { file: options.file, offsetBytes, lsn: options.position.lastLsn + 1 },
    later !== null
      ? `frame fails its ${problem} check but a valid frame (LSN ${later.lsn}) follows at offset ${offsetBytes + later.offsetBytes}`
      : `a sealed segment ends with ${rest.byteLength} bytes that are not a valid frame (${problem})`,
  )
}

function allZero(bytes: Uint8Array): boolean {
  for (let index = 0; index < bytes.byteLength; index++) if (bytes[index] !== 0) return false
  return true
}

function checkOrder(lsn: number, epoch: number, offset: number, options: ScanOptions): void {
  const { file, position } = options
  if (lsn !== position.lastLsn + 1) {
    throw new WalCorruptionError(
      'LSN_GAP',
      { file, offsetBytes: offset, lsn: position.lastLsn + 1 },
      `expected LSN ${position.lastLsn + 1}, found a valid frame with LSN ${lsn}`,
    )
  }
  if (epoch < position.lastEpoch) {
    throw new WalCorruptionError(
      'EPOCH_REGRESSION',
      { file, offsetBytes: offset, lsn },
      `frame epoch ${epoch} is lower than epoch ${position.lastEpoch} already in the log (a fenced-off writer?)`,
    )
  }
}
