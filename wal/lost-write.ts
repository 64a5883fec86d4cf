/**
 * Telling a power cut's hole in the batch being synced from damage to acknowledged frames (used by scan.ts on open).
 *
 * The group commit writes a batch, fdatasyncs it, and only then acknowledges it, and writes the next batch only after
 * that sync came back (group-commit.ts); a part of a batch before a segment roll is synced before the roll. So at any
 * moment at most one batch's bytes are written and not yet durable, all in the last segment, at its end; batchBytesMax
 * of them, except a single append larger than that, which is a batch of its own, never split (a decision's records stay
 * one write and one sync). A power cut then leaves every byte before that batch as it was, and of the batch any subset
 * of its pages, or of their sectors, in any order the page cache wrote them back; a unit not written reads as zeros
 * (the writer's preallocated zeros, or a file's unwritten end).
 *
 * So a bad frame followed by CRC-valid frames is cut on open, as a torn tail is, only when all of this holds:
 *
 * - it is in the last segment (checked by the caller), and the bad frame and everything after it can be one batch: from
 *   its start to the end of the last valid frame after it there are at most `windowBytes` (the largest batch), or every
 *   valid frame after it but the last says more of its append follows (frame.ts) — one append, which the writer writes
 *   as a batch of its own whatever its size (a lost page early in an append of 6 MiB was refused while the window alone
 *   decided, and the start needed repair-tail for a write that was never acknowledged). Frames of two appends further
 *   apart than the window cannot be the batch in flight: refused, as damage is;
 * - a lost write explains it: the bad stretch (from the bad frame to the next valid frame) holds, overlapping the bad
 *   frame, either a whole zero-filled aligned sector or, from the bad frame's start up to a sector's end, zeros that
 *   cover at least its length field (a lost sector whose start lay in the acknowledged frames before). Bit rot and a
 *   flipped byte never zero a sector: such damage is refused, whatever lies after it;
 * - the valid frames after it are what the same batch would hold: LSNs above the bad frame's, increasing; epochs never
 *   below the log's; and a frame that starts where the previous valid one ends follows it (next LSN, its chain).
 *
 * Everything from the bad frame on is then cut: those frames were never acknowledged (their batch's sync never came
 * back), and nothing after a hole can be kept without the frames in it. What this cannot tell from a lost write is a
 * zero-filled sector inside the last batch's reach (the last append's, for one larger than a batch) that was durable
 * before (a device that returns zeros for a sector it lost): that is cut too, and reported like every cut
 * (RecoveryReport.tornTail, the serve's LOG_TAIL_TRUNCATED line).
 */

import { HASH_BYTES } from './chain.ts'
import { FRAME_HEADER_BYTES, FRAME_PREFIX_BYTES } from './frame.ts'
import { chainHolds, continuesAt, copyStoredHash, crcHolds, epochAt, frameBody, frameBytesAt, lsnAt } from './frame-check.ts'
import { FrameSearchBudget, lsnCanLieAt } from './frame-search.ts'
import type { ChainPosition } from './scan.ts'

/** The smallest unit a disk writes whole; a lost write leaves whole sectors zero (a page is 8 of them). */
export const SECTOR_BYTES = 512

/** The CRC-valid frames a cut at a lost write removes besides the damaged bytes. */
export interface LostWrite {
  validFramesBeyond: number
}

/** What lostWriteAt judges with: the chain after the last good frame, the largest batch, the search's CRC budget. */
export interface LostWriteOptions {
  position: Readonly<Omit<ChainPosition, 'appendOpen'>>
  windowBytes: number
  /** Shared with the search that found damage followed by a frame (frame-search.ts); a fresh one when absent. */
  budget?: FrameSearchBudget
  /** Where in `rest` that search found the first valid frame (none lies before it, so the walk starts there); else 1. */
  firstFrameAt?: number
}

/**
 * `rest` holds the last segment from the bad frame (at file offset `cutOffsetBytes`) to its end; `position` is the
 * chain after the last good frame. The lost write when the damage is one (see the header), null otherwise — and null
 * when the budget runs out before the frames after it are judged (frame-search.ts): not a cut that was checked.
 */
export function lostWriteAt(rest: Uint8Array, cutOffsetBytes: number, options: LostWriteOptions): LostWrite | null {
  const view = new DataView(rest.buffer, rest.byteOffset, rest.byteLength)
  const frames = validFramesAfter(rest, view, options)
  const first = frames[0]
  if (first === undefined) return null
  const claimed = frameBytesAt(view, 0, first.offsetBytes)
  const badFrameEnd = claimed > 0 ? claimed : first.offsetBytes
  if (!zeroSectorExplains(rest, cutOffsetBytes, { badFrameEnd, stretchEnd: first.offsetBytes })) return null
  return { validFramesBeyond: frames.length }
}

interface FoundFrame {
  offsetBytes: number
}

/**
 * The CRC-valid frames after the bad one, if they are what one batch would hold after `position`, all ending within
 * `windowBytes` of the bad frame's start or all (but the last) continuing one append; [] otherwise. The frames missing
 * between two found ones (the bad one first) must fit the bytes between them (a frame is at least its header), and one
 * found right where the last ended must be the next LSN and chain from it.
 */
function validFramesAfter(rest: Uint8Array, view: DataView, options: LostWriteOptions): FoundFrame[] {
  const { position, windowBytes } = options
  const budget = options.budget ?? new FrameSearchBudget(rest.byteLength)
  const found: FoundFrame[] = []
  const lastHash = new Uint8Array(HASH_BYTES)
  const scratchHash = new Uint8Array(HASH_BYTES)
  let expectedLsn = position.lastLsn + 1
  let lastEpoch = position.lastEpoch
  let previousEnd = 0
  // Every frame found so far says more of its append follows: they may all be one append's, which is a batch of its own.
  let oneAppend = true
  for (let offset = options.firstFrameAt ?? 1; offset <= rest.byteLength - FRAME_HEADER_BYTES; offset++) {
    const frameBytes = frameBytesAt(view, offset, rest.byteLength)
    if (frameBytes < 0) continue
    // Cheap before the CRC: a frame this log cannot have written here is skipped as garbage is (frame-search.ts).
    const lsn = lsnAt(view, offset)
    if (!lsnCanLieAt(lsn, position.lastLsn, offset)) continue
    if (!budget.spend(frameBytes - FRAME_PREFIX_BYTES)) return []
    const body = frameBody(rest, offset, frameBytes)
    if (!crcHolds(view, offset, body)) continue
    const epoch = epochAt(view, offset)
    const missing = lsn - expectedLsn
    if (missing < (found.length === 0 ? 1 : 0) || missing * FRAME_HEADER_BYTES > offset - previousEnd || epoch < lastEpoch) return []
    if (missing === 0 && (offset !== previousEnd || !chainHolds(rest, offset, body, lastHash, scratchHash))) return []
    // Beyond one batch's reach of the bad frame: not the batch in flight (and no need to walk the rest) — unless the
    // frames before it all continue their append: one append larger than a batch is written as a batch of its own,
    // whatever its size, so the bad frame and every frame up to this one can still be its bytes.
    if (offset + frameBytes > windowBytes && !oneAppend) return []
    oneAppend &&= continuesAt(view, offset)
    found.push({ offsetBytes: offset })
    copyStoredHash(rest, offset, lastHash)
    expectedLsn = lsn + 1
    lastEpoch = epoch
    previousEnd = offset + frameBytes
    offset = previousEnd - 1
  }
  return found
}

/**
 * Does a lost sector explain the bad frame? Offsets are relative to `rest` (the bad frame starts at 0), sectors are
 * aligned in the file (`cutOffsetBytes` is rest's file offset).
 */
function zeroSectorExplains(rest: Uint8Array, cutOffsetBytes: number, bounds: { badFrameEnd: number; stretchEnd: number }): boolean {
  const { badFrameEnd, stretchEnd } = bounds
  // A lost sector that began in the acknowledged bytes before: zeros from the bad frame's start to the sector's end.
  const firstSectorEnd = Math.ceil((cutOffsetBytes + 1) / SECTOR_BYTES) * SECTOR_BYTES - cutOffsetBytes
  if (firstSectorEnd >= 4 && firstSectorEnd <= stretchEnd && isZero(rest, 0, firstSectorEnd)) return true
  // A whole lost sector overlapping the bad frame.
  for (let start = firstSectorEnd; start < badFrameEnd && start + SECTOR_BYTES <= stretchEnd; start += SECTOR_BYTES) {
    if (isZero(rest, start, start + SECTOR_BYTES)) return true
  }
  return false
}

function isZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let index = from; index < to; index++) if (bytes[index] !== 0) return false
  return true
}
