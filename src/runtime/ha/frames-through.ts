/**
 * The part of a received envelope to append when a pull must end at an LSN (`egress backup`'s end): the frames up to
 * that LSN, or up to the end of the decision holding it: where its frames' append flag says its append ends
 * (wal/frame.ts), or, in a log written before the flag, where a command record in them says its decision runs
 * (command-record.ts: the record's `eventCount` events follow it in the same append). A log that ended inside a
 * decision would hold half of it, as stream.ts's decision boundaries explain; a promoted copy would build its state
 * from it.
 *
 * Only frame lengths, LSNs and types are read here; whether the frames are sound (CRC, LSN order, chain) is for
 * `Wal.appendFrames` to judge. Bytes this cannot walk (a bad length, a short frame) end the walk where they start and
 * are passed on whole, so the append refuses them rather than this quietly dropping them.
 */

import { FRAME_PAYLOAD_OFFSET } from '../../../wal/frame.ts'
import { continuesAt, frameBytesAt, lsnAt, typeAt, versionAt } from '../../../wal/frame-check.ts'
import { decodeCommandRecord, isCommandRecord } from './command-record.ts'

export interface FramesThrough {
  /** The bytes to append: a prefix of the envelope's frames (all of them when the end lies beyond them). */
  bytes: Uint8Array
  /** The LSN to end at now: the one asked for, or the end of the decision a command record here says holds it. */
  endLsn: number
}

/** The prefix of `frames` (whole WAL frames) that ends at `endLsn`, extended to the end of a decision holding it. */
export function framesThrough(frames: Uint8Array, endLsn: number): FramesThrough {
  const view = new DataView(frames.buffer, frames.byteOffset, frames.byteLength)
  let end = endLsn
  let offset = 0
  while (offset < frames.byteLength) {
    const frameBytes = frameBytesAt(view, offset, frames.byteLength)
    if (frameBytes < 0) return { bytes: frames, endLsn: end }
    const lsn = lsnAt(view, offset)
    if (lsn > end) return { bytes: frames.subarray(0, offset), endLsn: end }
    if (isCommandRecord(typeAt(view, offset))) end = Math.max(end, decisionEndOf(frames, view, offset, frameBytes, lsn))
    // The frame at the end says more of its append follows (wal/frame.ts): the end moves on to the append's last frame.
    if (lsn === end && continuesAt(view, offset)) end = lsn + 1
    offset += frameBytes
  }
  return { bytes: frames, endLsn: end }
}

/** The last LSN of the decision whose command record is at `offset`; its own LSN when the record cannot be read. */
function decisionEndOf(frames: Uint8Array, view: DataView, offset: number, frameBytes: number, lsn: number): number {
  try {
    const payload = frames.subarray(offset + FRAME_PAYLOAD_OFFSET, offset + frameBytes)
    return lsn + decodeCommandRecord({ type: typeAt(view, offset), version: versionAt(view, offset), payload }).eventCount
  } catch {
    return lsn
  }
}
