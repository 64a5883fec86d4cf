/** A minimal SSE client for the specs: parses `id`/`event`/`data` frames and comments from a fetch response. */

export interface SseFrame {
  id: number | null
  event: string | null
  data: unknown
  comment: string | null
}

export class SseReader {
  private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> }
  private readonly decoder = new TextDecoder()
  private buffer = ''
  private readonly frames: SseFrame[] = []
  /**
   * The read under way, kept across calls: one `until` timed out waiting for it, and the next takes its chunk. (Left
   * behind, it took the next chunk for no one and the stream lost it: a whole burst of events, read as one chunk.)
   */
  private pending: Promise<{ done: boolean; value?: Uint8Array }> | null = null
  done = false

  constructor(response: Response) {
    if (response.body === null) throw new Error('no body')
    this.reader = response.body.getReader()
  }

  /** Reads until `predicate` holds for the frames so far (or the stream ends, or the timeout passes). */
  async until(predicate: (frames: SseFrame[]) => boolean, timeoutMs = 2_000): Promise<SseFrame[]> {
    const deadline = Date.now() + timeoutMs
    while (!predicate(this.frames) && !this.done) {
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw new Error(`timed out; got ${JSON.stringify(this.frames.map((frame) => frame.event ?? frame.comment))}`)
      this.pending ??= this.reader.read()
      const chunk = await Promise.race([this.pending, Bun.sleep(remaining).then(() => null)])
      if (chunk === null) continue
      this.pending = null
      if (chunk.done) this.done = true
      else if (chunk.value !== undefined) this.push(this.decoder.decode(chunk.value, { stream: true }))
    }
    return this.frames
  }

  events(): SseFrame[] {
    return this.frames.filter((frame) => frame.event !== null)
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => undefined)
  }

  private push(text: string): void {
    this.buffer += text
    let end = this.buffer.indexOf('\n\n')
    while (end !== -1) {
      const block = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end + 2)
      const frame: SseFrame = { id: null, event: null, data: null, comment: null }
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) frame.comment = line.slice(1).trim()
        else if (line.startsWith('id: ')) frame.id = Number(line.slice(4))
        else if (line.startsWith('event: ')) frame.event = line.slice(7)
        else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6)) as unknown
      }
      if (frame.event !== null || frame.comment !== null) this.frames.push(frame)
      end = this.buffer.indexOf('\n\n')
    }
  }
}
