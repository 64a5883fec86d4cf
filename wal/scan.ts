/**
 * Scanning a segment's frames with full checks: CRC, dense LSNs, non-decreasing epochs and (optionally) the chain.
 * Used on open (recovery), by readers and by offline verification. Damage is classified here, once:
 *
 * - in the last segment, a bad frame with no valid frame anywhere after it is a torn tail (a write that never
 *   completed, so never acknowledged): reported so the writer can truncate it;
 * - anything else — a bad frame followed by a valid one, a valid frame out of place, a chain break, an epoch going
 *   backwards — is corruption and throws, naming file, offset and LSN. Never skipped, never guessed around.
 */

import { GENESIS_HASH, HASH_BYTES } from './chain.ts'
import { WalCorruptionError } from './errors.ts'
import { FRAME_HEADER_BYTES, type Frame } from './frame.ts'
import {
  chainHolds,
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

/** Where the chain stands after the frames seen so far. */
export interface ChainPosition {
  /** The last LSN seen (firstLsn - 1 before any frame). */
  lastLsn: number
  /** The chain hash at lastLsn (a copy owned by the position). */
  lastHash: Uint8Array
  lastEpoch: number
}

export interface ScanOptions {
  file: string
  /** Byte offset of the first frame in `bytes` (after the segment header). */
  startOffsetBytes: number
  position: ChainPosition
  verifyChain: boolean
  /** With verifyChain, frames up to this LSN are not chain-checked: their stored hash is taken as the head (0: all). */
  verifyChainAfterLsn?: number
  /** Is this the log's last segment (the only place a torn tail may be)? */
  isLast: boolean
  /** Called for every valid frame with its LSN, its byte offset in `bytes` and the chain head before it (borrowed). */
  onFrame?: (lsn: number, offsetBytes: number, previousHash: Uint8Array) => void
  /** Called for every valid frame with a view of it, valid during the call (only built when set). */
  observe?: (frame: Frame, offsetBytes: number) => void
}

export interface ScanResult {
  frameCount: number
  /** End of the last valid frame. */
  validEndBytes: number
  /** Set when the last segment ends in a torn or garbage tail that should be truncated at validEndBytes. */
  tornTail: { offsetBytes: number; reason: string } | null
}

export function initialPosition(firstLsn = 1, previousHash: Uint8Array = GENESIS_HASH): ChainPosition {
  return { lastLsn: firstLsn - 1, lastHash: previousHash.slice(), lastEpoch: 0 }
}

export function scanFrames(bytes: Uint8Array, options: ScanOptions): ScanResult {
  const { file, position, verifyChain, onFrame, observe } = options
  const verifyAfterLsn = options.verifyChainAfterLsn ?? 0
  const scratchHash = new Uint8Array(HASH_BYTES)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const limit = bytes.byteLength
  let offset = options.startOffsetBytes
  let frameCount = 0
  while (offset < limit) {
    const frameBytes = frameBytesAt(view, offset, limit)
    const body = frameBytes < 0 ? null : frameBody(bytes, offset, frameBytes)
    if (body === null || !crcHolds(view, offset, body)) {
      const problem = frameBytes < 0 ? lengthProblem(frameBytes) : 'crc'
      return { frameCount, validEndBytes: offset, tornTail: tornTailAt(bytes, offset, problem, options) }
    }
    const lsn = lsnAt(view, offset)
    const epoch = epochAt(view, offset)
    checkOrder(lsn, epoch, offset, options)
    if (verifyChain && lsn > verifyAfterLsn && !chainHolds(bytes, offset, body, position.lastHash, scratchHash)) {
      throw new WalCorruptionError(
        'CHAIN_BREAK',
        { file, offsetBytes: offset, lsn },
        'the frame hash does not follow from the previous frame (content edited after writing?)',
      )
    }
    onFrame?.(lsn, offset, position.lastHash)
    if (observe !== undefined) observe(frameViewAt(bytes, view, offset, frameBytes), offset)
    position.lastLsn = lsn
    copyStoredHash(bytes, offset, position.lastHash)
    position.lastEpoch = epoch
    frameCount++
    offset += frameBytes
  }
  return { frameCount, validEndBytes: offset, tornTail: null }
}

/**
 * A frame at `offset` failed its `problem` check. In the last segment with no valid frame after it, that is a torn
 * tail (returned); anything else throws.
 */
function tornTailAt(bytes: Uint8Array, offset: number, problem: FrameProblem, options: ScanOptions): { offsetBytes: number; reason: string } {
  const later = findValidFrameAfter(bytes, offset + 1)
  if (later === null && options.isLast) return { offsetBytes: offset, reason: problem }
  throw new WalCorruptionError(
    later !== null ? 'FRAME_CORRUPT' : 'SEGMENT_TRAILING_BYTES',
    { file: options.file, offsetBytes: offset, lsn: options.position.lastLsn + 1 },
    later !== null
      ? `frame fails its ${problem} check but a valid frame (LSN ${later.lsn}) follows at offset ${later.offsetBytes}`
      : `a sealed segment ends with ${bytes.byteLength - offset} bytes that are not a valid frame (${problem})`,
  )
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

/**
 * Looks for any CRC-valid frame starting at or after `from`. A hit means the damage before it is not a torn tail.
 * Only offsets whose length field is plausible are CRC-checked, so a garbage or zero-filled tail scans quickly.
 */
export function findValidFrameAfter(bytes: Uint8Array, from: number): { offsetBytes: number; lsn: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const lastStart = bytes.byteLength - FRAME_HEADER_BYTES
  for (let offset = from; offset <= lastStart; offset++) {
    const frameBytes = frameBytesAt(view, offset, bytes.byteLength)
    if (frameBytes < 0) continue
    if (crcHolds(view, offset, frameBody(bytes, offset, frameBytes))) return { offsetBytes: offset, lsn: lsnAt(view, offset) }
  }
  return null
}
