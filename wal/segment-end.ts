/**
 * The last LSN of a sealed segment an anchored open skips (recover.ts), found without reading the segment whole.
 *
 * An anchored open reads only the headers of the segments below the chain anchor. A header names the segment's first
 * LSN, not its last, and the open used to take the next segment's first LSN − 1 as this one's last: a segment missing
 * in the middle (1, [2 gone], 3) went unseen, the one before it credited with the missing LSNs, and a read of them
 * failed much later. Compaction removes only a prefix of whole segments, so such a hole is always damage.
 *
 * A sealed segment ends exactly at its last frame (the writer trims it before it rolls: SegmentWriter.roll), and a
 * frame carries its LSN, but its length is at its start, so the end cannot be walked backwards. So the tail of the file
 * is read (a small window, then the largest frame's worth) and the frame that ends exactly at the end of the file with
 * a valid CRC is looked for, from the window's start on (a frame's payload never makes an earlier-starting false one:
 * that would need a CRC-32 collision over bytes holding real frame headers). A later-starting false one can be found:
 * when the last frame is longer than the first window, its payload's own last bytes may read as a whole frame (CRC,
 * LSN and all) ending at the end of the file. So the found frame's stored chain hash comes back too, and recover.ts
 * trusts the answer only when it is the hash the next segment's header chains from (32 bytes a payload written before
 * that header cannot predict). The answer is a fast path only: when no such frame is found (a file not trimmed,
 * damage), or its LSN or hash is not the one the next segment implies, the segment is scanned whole (scanSegment, as a
 * full open scans it), and that scan decides. So is the answer when the search's CRC work runs out (frame-search.ts: a
 * tail crafted so that every fourth offset's length reaches the end of the file cost seconds per segment).
 */

import { HASH_BYTES } from './chain.ts'
import { FRAME_HASH_OFFSET, FRAME_HEADER_BYTES, FRAME_PREFIX_BYTES, PAYLOAD_BYTES_MAX } from './frame.ts'
import { crcHolds, lsnAt } from './frame-check.ts'
import { FrameSearchBudget, SEARCH_GAVE_UP } from './frame-search.ts'
import { readFully, type WalIo } from './io.ts'
import { SEGMENT_HEADER_BYTES } from './segment.ts'

/** The first window read from a segment's end: holds the last frame of any segment of ordinary records. */
export const SEGMENT_END_PROBE_BYTES = 64 * 1024

/** The frame a sealed segment ends with: its LSN and the chain hash stored in it (the next header chains from it). */
export interface SegmentEnd {
  lastLsn: number
  lastHash: Uint8Array
}

/**
 * The frame that ends exactly at `sizeBytes` in the segment open as `fd` (first LSN `firstLsn`, its header chaining
 * from `previousHash`), or for a segment holding only its header `firstLsn − 1` and `previousHash`; null when no such
 * frame is found in the largest frame's worth of its tail (the caller scans the segment whole).
 */
export function probeSealedSegmentEnd(io: WalIo, fd: number, options: { sizeBytes: number; firstLsn: number; previousHash: Uint8Array }): SegmentEnd | null {
  const { sizeBytes, firstLsn } = options
  const frameSpanBytes = sizeBytes - SEGMENT_HEADER_BYTES
  if (frameSpanBytes === 0) return { lastLsn: firstLsn - 1, lastHash: options.previousHash }
  if (frameSpanBytes < FRAME_HEADER_BYTES) return null
  const windows = [SEGMENT_END_PROBE_BYTES, FRAME_HEADER_BYTES + PAYLOAD_BYTES_MAX].map((bytes) => Math.min(bytes, frameSpanBytes))
  let searchedBytes = 0
  const budget = new FrameSearchBudget(windows[windows.length - 1] as number)
  for (const windowBytes of windows) {
    if (windowBytes <= searchedBytes) continue
    const tail = readFully(io, fd, sizeBytes - windowBytes, windowBytes)
    if (tail.byteLength !== windowBytes) return null
    const found = lastFrameIn(tail, windowBytes - searchedBytes, { firstLsn, budget })
    if (found === SEARCH_GAVE_UP) return null
    if (found !== null) return found
    searchedBytes = windowBytes
  }
  return null
}

/**
 * The earliest-starting frame in `tail` that ends exactly at its end with a valid CRC and an LSN of the segment, among
 * those starting before `startsBeforeBytes` (the rest were searched in a smaller window); null when there is none,
 * SEARCH_GAVE_UP when the budget ran out first.
 */
function lastFrameIn(tail: Uint8Array, startsBeforeBytes: number, search: { firstLsn: number; budget: FrameSearchBudget }): SegmentEnd | null | typeof SEARCH_GAVE_UP {
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength)
  const endBytes = tail.byteLength
  const lastStart = Math.min(startsBeforeBytes, endBytes - FRAME_HEADER_BYTES + 1)
  for (let offset = 0; offset < lastStart; offset++) {
    if (view.getUint32(offset, true) + FRAME_PREFIX_BYTES !== endBytes - offset) continue
    const lsn = lsnAt(view, offset)
    if (lsn < search.firstLsn) continue
    if (!search.budget.spend(endBytes - offset - FRAME_PREFIX_BYTES)) return SEARCH_GAVE_UP
    if (crcHolds(view, offset, tail.subarray(offset + FRAME_PREFIX_BYTES, endBytes))) {
      return { lastLsn: lsn, lastHash: tail.slice(offset + FRAME_HASH_OFFSET, offset + FRAME_HASH_OFFSET + HASH_BYTES) }
    }
  }
  return null
}
