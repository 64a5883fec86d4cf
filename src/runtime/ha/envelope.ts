/**
 * The replication stream's framing: a sequence of envelopes, each a 12-byte header — u32 byte count of the frames
 * that follow, u64 (two u32, little-endian) the leader's last durable LSN — then that many bytes of whole WAL frames,
 * exactly as the leader's log holds them. An envelope with no frames is a heartbeat: it tells the standby the leader
 * is alive and how far it is, so lag is known even when nothing is written.
 */

export const ENVELOPE_HEADER_BYTES = 12

export interface Envelope {
  frames: Uint8Array
  leaderLastLsn: number
}

export function encodeEnvelope(frames: Uint8Array, leaderLastLsn: number): Uint8Array {
  const bytes = new Uint8Array(ENVELOPE_HEADER_BYTES + frames.byteLength)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, frames.byteLength, true)
  view.setUint32(4, leaderLastLsn % 0x1_0000_0000, true)
  view.setUint32(8, Math.floor(leaderLastLsn / 0x1_0000_0000), true)
  bytes.set(frames, ENVELOPE_HEADER_BYTES)
  return bytes
}

/**
 * Bytes that restart the silence timer though they make no whole envelope yet: a large envelope (up to twice the
 * leader's chunkBytesMax) on a slow link is progress. A leader trickling less within the silence bound (the standby's
 * silenceMsMax, a backup's --timeout-ms) is dropped; one sending more but never ending its envelope is, once it passes
 * envelopeBytesMax (EnvelopeReader refuses it).
 */
export const SILENCE_PROGRESS_BYTES = 64 * 1024

/**
 * Reassembles envelopes from stream reads of any size. Bounded: an envelope claiming more than `envelopeBytesMax`
 * is refused (a broken or hostile peer), so the reader never holds more than one envelope plus one read.
 *
 * The reads are kept as they came, each copied once, when its envelope is complete: joined on every read, an envelope
 * arriving in small reads cost its size times the number of reads (8 MiB in 4 KiB reads: 2.3 s of the standby's event
 * loop; review). A read handed to `push` is kept until then, so the caller must not reuse its buffer (a stream's
 * chunks are fresh arrays).
 */
export class EnvelopeReader {
  /** The bytes received and not yet taken as an envelope, oldest first. */
  private chunks: Uint8Array[] = []
  private heldBytes = 0
  private readonly envelopeBytesMax: number

  constructor(options: { envelopeBytesMax: number }) {
    this.envelopeBytesMax = options.envelopeBytesMax
  }

  /** Adds received bytes and returns every envelope now complete, in order. */
  push(received: Uint8Array): Envelope[] {
    if (received.byteLength > 0) {
      this.chunks.push(received)
      this.heldBytes += received.byteLength
    }
    const envelopes: Envelope[] = []
    while (this.heldBytes >= ENVELOPE_HEADER_BYTES) {
      const view = new DataView(this.copyFront(ENVELOPE_HEADER_BYTES).buffer)
      const frameBytes = view.getUint32(0, true)
      if (frameBytes > this.envelopeBytesMax) throw new RangeError(`replication envelope of ${frameBytes} bytes exceeds envelopeBytesMax ${this.envelopeBytesMax}`)
      if (this.heldBytes < ENVELOPE_HEADER_BYTES + frameBytes) break
      const leaderLastLsn = view.getUint32(4, true) + view.getUint32(8, true) * 0x1_0000_0000
      this.drop(ENVELOPE_HEADER_BYTES)
      const frames = this.copyFront(frameBytes)
      this.drop(frameBytes)
      envelopes.push({ frames, leaderLastLsn })
    }
    return envelopes
  }

  /** A copy of the first `count` bytes held (at most what is held). */
  private copyFront(count: number): Uint8Array {
    const copy = new Uint8Array(count)
    let filled = 0
    for (let index = 0; filled < count; index++) {
      const chunk = this.chunks[index] as Uint8Array
      const part = Math.min(chunk.byteLength, count - filled)
      copy.set(part === chunk.byteLength ? chunk : chunk.subarray(0, part), filled)
      filled += part
    }
    return copy
  }

  /** Lets go of the first `count` bytes held (at most what is held). */
  private drop(count: number): void {
    this.heldBytes -= count
    let left = count
    let whole = 0
    while (left > 0) {
      const chunk = this.chunks[whole] as Uint8Array
      if (chunk.byteLength > left) {
        this.chunks[whole] = chunk.subarray(left)
        break
      }
      left -= chunk.byteLength
      whole++
    }
    if (whole > 0) this.chunks.splice(0, whole)
  }
}
