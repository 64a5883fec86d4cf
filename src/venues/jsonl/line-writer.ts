/**
 * Whole lines out of a Bun socket, in the order written. Bun's `socket.write` is unbuffered: under backpressure it
 * accepts part of the data and returns the byte count (-1 once the socket is closing). A LineWriter keeps the unwritten
 * tail and every later line in a FIFO, and `drain()` (called from the socket's drain handler) writes them on, so no
 * line loses its tail and none overtakes another. The FIFO is bounded in bytes: past the bound, or on a closed socket,
 * `write` answers false and the caller drops the connection (a peer that reads nothing is as good as gone).
 */

export interface ByteSink {
  write(data: Uint8Array): number
}

const encoder = new TextEncoder()

export class LineWriter {
  private readonly sink: ByteSink
  private readonly queuedBytesMax: number
  private readonly queue: Uint8Array[] = []
  private queuedBytes = 0

  constructor(sink: ByteSink, queuedBytesMax: number) {
    this.sink = sink
    this.queuedBytesMax = queuedBytesMax
  }

  /** Bytes accepted but not yet handed to the socket. */
  get pendingBytes(): number {
    return this.queuedBytes
  }

  /** Writes (or queues) one line; false when the socket is closed or the queue would pass its bound. */
  write(line: string): boolean {
    const bytes = encoder.encode(line)
    if (this.queue.length > 0) return this.enqueue(bytes)
    const written = this.sink.write(bytes)
    if (written < 0) return false
    if (written >= bytes.byteLength) return true
    return this.enqueue(bytes.subarray(written))
  }

  /** Writes queued bytes on until the socket pushes back again; false if the socket is closed. */
  drain(): boolean {
    while (this.queue.length > 0) {
      const head = this.queue[0] as Uint8Array
      const written = this.sink.write(head)
      if (written < 0) return false
      this.queuedBytes -= Math.min(written, head.byteLength)
      if (written < head.byteLength) {
        this.queue[0] = head.subarray(written)
        return true
      }
      this.queue.shift()
    }
    return true
  }

  private enqueue(bytes: Uint8Array): boolean {
    if (this.queuedBytes + bytes.byteLength > this.queuedBytesMax) return false
    this.queue.push(bytes)
    this.queuedBytes += bytes.byteLength
    return true
  }
}
