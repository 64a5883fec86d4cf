/**
 * Frames from a leader handed on only as whole appends (wal/frame.ts: every frame of an append but its last has the
 * append flag). The stream ends an envelope between appends, but not inside one larger than twice its bound, and a
 * pull may stop anywhere: a replica log that took such an envelope as it came ended inside an append, its engine
 * applied half a decision, its snapshotter could snapshot an LSN inside it and its acknowledgements and lease floor
 * named one — and the next open of that log cuts the half append, so the node no longer started (LOG_BEHIND_SNAPSHOT)
 * or took over (below its own floor). So the frames of an append still open are held here, unwritten, until the frame
 * that closes it arrives, and go on with it.
 *
 * The hold is bounded: a leader queues at most its log's queue bound of records (64 MiB by default), so one append is
 * never larger; past WHOLE_APPEND_BYTES_MAX the frames are refused, loudly, rather than held without bound.
 */

import { frameContinues } from '../../../wal/index.ts'
import { frameBytesAt } from '../../../wal/frame-check.ts'

/** Four times a leader's default log queue bound: far above one append, a bound on the memory held all the same. */
export const WHOLE_APPEND_BYTES_MAX = 256 * 1024 * 1024

export class WholeAppends {
  private held: Uint8Array | null = null

  constructor(private readonly bytesMax: number = WHOLE_APPEND_BYTES_MAX) {}

  /** Bytes held: frames of an append still open. */
  get heldBytes(): number {
    return this.held?.byteLength ?? 0
  }

  /**
   * The frames held before `frames`, and `frames`, up to the end of the last append they close (empty when none
   * closes); the rest is held for the next call. Bytes it cannot walk (a bad length, a short frame) are handed on
   * whole, for the log's append to refuse. Throws when more than `bytesMax` would be held.
   */
  take(frames: Uint8Array): Uint8Array {
    const all = this.held === null ? frames : concat(this.held, frames)
    const end = closedAppendsEnd(all)
    this.held = end === all.byteLength ? null : all.slice(end)
    if (this.held !== null && this.held.byteLength > this.bytesMax) {
      const held = this.held.byteLength
      this.held = null
      throw new Error(`an append from the leader exceeds ${this.bytesMax} bytes (${held} held and it is still open): refused rather than held without bound`)
    }
    return all.subarray(0, end)
  }
}

/** Where the last append `frames` closes ends: after the last frame without the append flag (0: none closes). */
function closedAppendsEnd(frames: Uint8Array): number {
  const view = new DataView(frames.buffer, frames.byteOffset, frames.byteLength)
  let end = 0
  let offset = 0
  while (offset < frames.byteLength) {
    const frameBytes = frameBytesAt(view, offset, frames.byteLength)
    if (frameBytes < 0) return frames.byteLength
    if (!frameContinues(frames.subarray(offset, offset + frameBytes))) end = offset + frameBytes
    offset += frameBytes
  }
  return end
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.byteLength + second.byteLength)
  joined.set(first, 0)
  joined.set(second, first.byteLength)
  return joined
}
