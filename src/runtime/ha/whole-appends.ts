/**
 * Frames from a leader handed on only as whole appends (wal/frame.ts: every frame of an append but its last has the
 * append flag). The stream ends an envelope between appends, but not inside one larger than twice its bound, and a
 * pull may stop anywhere: a replica log that took such an envelope as it came ended inside an append, its engine
 * applied half a decision, its snapshotter could snapshot an LSN inside it and its acknowledgements and lease floor
 * named one — and the next open of that log cuts the half append, so the node no longer started (LOG_BEHIND_SNAPSHOT)
 * or took over (below its own floor). So the frames of an append still open are held here, unwritten, until the frame
 * that closes it arrives, and go on with it.
 *
 * What goes on is cut into chunks for `Wal.appendFrames`, each of whole appends and at most the log's batch bound,
 * but for a single append larger than that, which goes alone (the log takes it, as a leader's writer takes one). The
 * held parts are kept as they came and joined once, when their append closes (joining on every envelope was quadratic
 * in an append's size). The hold is bounded: a leader queues at most its log's queue bound of records (64 MiB by
 * default), so one append is never larger; past WHOLE_APPEND_BYTES_MAX the frames are refused, loudly, rather than
 * held without bound.
 */

import { continuesAt, frameBytesAt } from '../../../wal/frame-check.ts'

/** Four times a leader's default log queue bound: far above one append, a bound on the memory held all the same. */
export const WHOLE_APPEND_BYTES_MAX = 256 * 1024 * 1024

export class WholeAppends {
  private held: Uint8Array[] = []
  private heldByteCount = 0

  /** `chunkBytesMax`: the log's batch bound (Wal.appendFrames refuses more, but for one whole append). */
  constructor(
    private readonly chunkBytesMax: number,
    private readonly bytesMax: number = WHOLE_APPEND_BYTES_MAX,
  ) {}

  /** Bytes held: frames of an append still open. */
  get heldBytes(): number {
    return this.heldByteCount
  }

  /**
   * The frames held before `frames`, and `frames`, up to the end of the last append they close, as chunks to append
   * in order (none when no append closes); the rest is held for the next call. Bytes it cannot walk (a bad length, a
   * short frame) are handed on whole, for the log's append to refuse. Throws when more than `bytesMax` would be held.
   */
  take(frames: Uint8Array): Uint8Array[] {
    const ends = appendEnds(frames)
    if (ends === null) return [this.joinHeldWith(frames)]
    const chunks: Uint8Array[] = []
    let start = 0
    if (this.held.length > 0 && ends.length > 0) {
      // The append held so far closes here: it goes alone, joined once.
      chunks.push(this.joinHeldWith(frames.subarray(0, ends[0])))
      start = ends[0] as number
    }
    let chunkStart = start
    for (const end of ends) {
      if (end <= start) continue
      if (end - chunkStart > this.chunkBytesMax && start > chunkStart) {
        chunks.push(frames.subarray(chunkStart, start))
        chunkStart = start
      }
      start = end
    }
    if (start > chunkStart) chunks.push(frames.subarray(chunkStart, start))
    if (start < frames.byteLength) this.hold(frames.subarray(start))
    return chunks
  }

  private hold(part: Uint8Array): void {
    this.held.push(part.slice())
    this.heldByteCount += part.byteLength
    if (this.heldByteCount > this.bytesMax) {
      const held = this.heldByteCount
      this.held = []
      this.heldByteCount = 0
      throw new Error(`an append from the leader exceeds ${this.bytesMax} bytes (${held} held and it is still open): refused rather than held without bound`)
    }
  }

  /** The held parts and `last`, as one buffer; nothing is held after. */
  private joinHeldWith(last: Uint8Array): Uint8Array {
    if (this.held.length === 0) return last
    const joined = new Uint8Array(this.heldByteCount + last.byteLength)
    let offset = 0
    for (const part of this.held) {
      joined.set(part, offset)
      offset += part.byteLength
    }
    joined.set(last, offset)
    this.held = []
    this.heldByteCount = 0
    return joined
  }
}

/** The byte offsets in `frames` where an append closes (after each frame without the append flag); null: unwalkable. */
function appendEnds(frames: Uint8Array): number[] | null {
  const view = new DataView(frames.buffer, frames.byteOffset, frames.byteLength)
  const ends: number[] = []
  let offset = 0
  while (offset < frames.byteLength) {
    const frameBytes = frameBytesAt(view, offset, frames.byteLength)
    if (frameBytes < 0) return null
    if (!continuesAt(view, offset)) ends.push(offset + frameBytes)
    offset += frameBytes
  }
  return ends
}
