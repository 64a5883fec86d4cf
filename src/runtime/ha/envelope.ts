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

const NO_FRAMES = new Uint8Array(0)
/** The first size of the frames-under-way buffer: a small envelope split across reads fits it or one doubling. */
const FRAMES_BYTES_MIN = 4096

/**
 * Reassembles envelopes from stream reads of any size. Bounded: an envelope claiming more than `envelopeBytesMax`
 * is refused (a broken or hostile peer) as soon as its header is in, so the reader never holds more than one envelope.
 *
 * The envelope under way is copied into one buffer grown by doubling up to its header's byte count, which then is the
 * envelope's frames as they are (an envelope whole in one read is copied once). Joined on every read, an envelope
 * arriving in small reads cost its size times the number of reads (8 MiB in 4 KiB reads: 2.3 s of the standby's event
 * loop); each read kept as its own array cost some 75 bytes of heap per byte for a leader sending a byte per read
 * (review): some 600 MB held under serve-ha's 8 MiB bound. The reads are copied in, so the caller may reuse their buffers.
 */
export class EnvelopeReader {
  private readonly header = new Uint8Array(ENVELOPE_HEADER_BYTES)
  private headerBytes = 0
  /** The frame byte count and leader LSN of the envelope under way, once its header is in. */
  private frameBytes = 0
  private leaderLastLsn = 0
  private frames: Uint8Array = NO_FRAMES
  private framesHeld = 0
  private readonly envelopeBytesMax: number

  constructor(options: { envelopeBytesMax: number }) {
    this.envelopeBytesMax = options.envelopeBytesMax
  }

  /** Adds received bytes and returns every envelope now complete, in order. */
  push(received: Uint8Array): Envelope[] {
    const envelopes: Envelope[] = []
    let at = 0
    for (;;) {
      if (this.headerBytes < ENVELOPE_HEADER_BYTES) {
        const part = received.subarray(at, at + ENVELOPE_HEADER_BYTES - this.headerBytes)
        this.header.set(part, this.headerBytes)
        this.headerBytes += part.byteLength
        at += part.byteLength
        if (this.headerBytes < ENVELOPE_HEADER_BYTES) break
        const view = new DataView(this.header.buffer)
        const frameBytes = view.getUint32(0, true)
        if (frameBytes > this.envelopeBytesMax) throw new RangeError(`replication envelope of ${frameBytes} bytes exceeds envelopeBytesMax ${this.envelopeBytesMax}`)
        this.frameBytes = frameBytes
        this.leaderLastLsn = view.getUint32(4, true) + view.getUint32(8, true) * 0x1_0000_0000
      }
      const part = received.subarray(at, at + this.frameBytes - this.framesHeld)
      if (part.byteLength > 0) this.hold(part)
      at += part.byteLength
      if (this.framesHeld < this.frameBytes) break
      envelopes.push({ frames: this.frameBytes === 0 ? new Uint8Array(0) : this.frames, leaderLastLsn: this.leaderLastLsn })
      this.headerBytes = 0
      this.frames = NO_FRAMES
      this.framesHeld = 0
    }
    return envelopes
  }

  /** Appends `part` to the frames under way (the caller keeps them within the header's byte count). */
  private hold(part: Uint8Array): void {
    const needed = this.framesHeld + part.byteLength
    if (needed > this.frames.byteLength) {
      const grown = new Uint8Array(Math.min(this.frameBytes, Math.max(needed, this.frames.byteLength * 2, FRAMES_BYTES_MIN)))
      grown.set(this.frames.subarray(0, this.framesHeld))
      this.frames = grown
    }
    this.frames.set(part, this.framesHeld)
    this.framesHeld = needed
  }
}
