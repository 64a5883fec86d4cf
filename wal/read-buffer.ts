/**
 * One reader's read buffer, reused from read to read. A fresh multi-megabyte buffer per read was the costliest part
 * of streaming a log: new pages to fault in and a large allocation for the collector to reclaim on every chunk.
 * Reuse is safe where the reader's contract is "a frame's views are valid until the next frame": a reader fills the
 * buffer again only when its consumer asks for the frame after the last one in it. A buffer belongs to one reader
 * (one generator, one open), never shared between readers that may interleave.
 *
 * The memory starts zeroed and only ever holds bytes of this log, so nothing foreign is reachable through a view's
 * `.buffer`.
 */

import { readInto, type WalIo } from './io.ts'

const GROWTH_STEP_BYTES = 64 * 1024

export class ReadBuffer {
  private bytes = new Uint8Array(0)
  private view = new DataView(this.bytes.buffer)

  /**
   * Reads `lengthBytes` at `positionBytes` of `fd` into the buffer (growing it to fit) and returns the bytes read, a
   * view of the buffer's start: fewer than asked only at end of file. Earlier results of this buffer are overwritten
   * (those of a smaller buffer it outgrew are not).
   */
  fill(io: WalIo, fd: number, positionBytes: number, lengthBytes: number): Uint8Array {
    if (lengthBytes > this.bytes.byteLength) {
      // Rounded up, so segments a few bytes apart in size (each ends where its last frame did) share one buffer.
      this.bytes = new Uint8Array(Math.ceil(lengthBytes / GROWTH_STEP_BYTES) * GROWTH_STEP_BYTES)
      this.view = new DataView(this.bytes.buffer)
    }
    const target = lengthBytes === this.bytes.byteLength ? this.bytes : this.bytes.subarray(0, lengthBytes)
    const filled = readInto(io, fd, target, positionBytes)
    return filled === target.byteLength ? target : this.bytes.subarray(0, filled)
  }

  /** A DataView over the whole buffer (the results of `fill` start at its offset 0). */
  get dataView(): DataView {
    return this.view
  }
}
