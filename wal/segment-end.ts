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
 * that would need a CRC-32 collision over bytes holding real frame headers). The answer is a fast path only: when no
 * such frame is found (a file not trimmed, damage) or its LSN is not the one the next segment implies, the segment is
 * scanned whole (scanSegment, as a full open scans it), and that scan decides.
 */

import { FRAME_HEADER_BYTES, FRAME_PREFIX_BYTES, PAYLOAD_BYTES_MAX } from './frame.ts'
import { crcHolds, lsnAt } from './frame-check.ts'
import { readFully, type WalIo } from './io.ts'
import { SEGMENT_HEADER_BYTES } from './segment.ts'

/** The first window read from a segment's end: holds the last frame of any segment of ordinary records. */
export const SEGMENT_END_PROBE_BYTES = 64 * 1024

/**
 * The LSN of the frame that ends exactly at `sizeBytes` in the segment open as `fd` (first LSN `firstLsn`), or
 * `firstLsn − 1` for a segment holding only its header; null when no such frame is found in the largest frame's worth
 * of its tail (the caller scans the segment whole).
 */
export function probeSealedSegmentLastLsn(io: WalIo, fd: number, options: { sizeBytes: number; firstLsn: number }): number | null {
  const { sizeBytes, firstLsn } = options
  const frameSpanBytes = sizeBytes - SEGMENT_HEADER_BYTES
  if (frameSpanBytes === 0) return firstLsn - 1
  if (frameSpanBytes < FRAME_HEADER_BYTES) return null
  const windows = [SEGMENT_END_PROBE_BYTES, FRAME_HEADER_BYTES + PAYLOAD_BYTES_MAX].map((bytes) => Math.min(bytes, frameSpanBytes))
  let searchedBytes = 0
  for (const windowBytes of windows) {
    if (windowBytes <= searchedBytes) continue
    const tail = readFully(io, fd, sizeBytes - windowBytes, windowBytes)
    if (tail.byteLength !== windowBytes) return null
    const lsn = lastFrameLsnIn(tail, windowBytes - searchedBytes, firstLsn)
    if (lsn !== null) return lsn
    searchedBytes = windowBytes
  }
  return null
}

/**
 * The LSN of the earliest-starting frame in `tail` that ends exactly at its end with a valid CRC, among those starting
 * before `startsBeforeBytes` (the rest were searched in a smaller window); null when there is none.
 */
function lastFrameLsnIn(tail: Uint8Array, startsBeforeBytes: number, firstLsn: number): number | null {
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength)
  const endBytes = tail.byteLength
  const lastStart = Math.min(startsBeforeBytes, endBytes - FRAME_HEADER_BYTES + 1)
  for (let offset = 0; offset < lastStart; offset++) {
    if (view.getUint32(offset, true) + FRAME_PREFIX_BYTES !== endBytes - offset) continue
    if (!crcHolds(view, offset, tail.subarray(offset + FRAME_PREFIX_BYTES, endBytes))) continue
    const lsn = lsnAt(view, offset)
    if (lsn >= firstLsn) return lsn
  }
  return null
}
