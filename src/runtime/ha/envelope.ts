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
 * Reassembles envelopes from stream reads of any size. Bounded: an envelope claiming more than `envelopeBytesMax`
 * is refused (a broken or hostile peer), so the buffer never holds more than one envelope plus one read.
 */
export class EnvelopeReader {
  private buffer = new Uint8Array(0)
  private readonly envelopeBytesMax: number

  constructor(options: { envelopeBytesMax: number }) {
    this.envelopeBytesMax = options.envelopeBytesMax
  }

  /** Adds received bytes and returns every envelope now complete, in order. */
  push(received: Uint8Array): Envelope[] {
    const joined = new Uint8Array(this.buffer.byteLength + received.byteLength)
    joined.set(this.buffer, 0)
    joined.set(received, this.buffer.byteLength)
    const envelopes: Envelope[] = []
    let offset = 0
    const view = new DataView(joined.buffer)
    while (joined.byteLength - offset >= ENVELOPE_HEADER_BYTES) {
      const frameBytes = view.getUint32(offset, true)
      if (frameBytes > this.envelopeBytesMax) throw new RangeError(`replication envelope of ${frameBytes} bytes exceeds envelopeBytesMax ${this.envelopeBytesMax}`)
      const end = offset + ENVELOPE_HEADER_BYTES + frameBytes
      if (end > joined.byteLength) break
      const leaderLastLsn = view.getUint32(offset + 4, true) + view.getUint32(offset + 8, true) * 0x1_0000_0000
      envelopes.push({ frames: joined.slice(offset + ENVELOPE_HEADER_BYTES, end), leaderLastLsn })
      offset = end
    }
    this.buffer = joined.slice(offset)
    return envelopes
  }
}
