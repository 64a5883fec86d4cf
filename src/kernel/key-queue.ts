/**
 * The key window's queue (key-window.ts): the idempotency keys in the order they were taken, each with the time of the
 * entry it was queued for. Kept in chunks of CHUNK_KEYS — keys in an array, times in a Float64Array — and shed a whole
 * chunk at a time from the front: one plain array of an object per key was written at its end for every order, and
 * JavaScriptCore's young-generation collection rescans a written old container whole (3–5× longer eden pauses at 1M
 * keys), while cutting its front off moved the whole window at once (85 ms at 4M). Only the youngest chunk is written.
 */

const CHUNK_KEYS = 4_096

interface Chunk {
  readonly keys: string[]
  readonly times: Float64Array
}

export class KeyQueue {
  /** Oldest first; every chunk but the last is full. */
  readonly #chunks: Chunk[] = []
  /** The position of the front item in the first chunk. */
  #head = 0

  push(indexKey: string, decidedAtMs: number): void {
    let last = this.#chunks.at(-1)
    if (last === undefined || last.keys.length === CHUNK_KEYS) {
      last = { keys: [], times: new Float64Array(CHUNK_KEYS) }
      this.#chunks.push(last)
    }
    last.times[last.keys.length] = decidedAtMs
    last.keys.push(indexKey)
  }

  get empty(): boolean {
    const first = this.#chunks[0]
    return first === undefined || this.#head >= first.keys.length
  }

  /** The front item's key; call only when not empty. */
  get frontKey(): string {
    return (this.#chunks[0] as Chunk).keys[this.#head] as string
  }

  /** The front item's time; call only when not empty. */
  get frontTime(): number {
    return (this.#chunks[0] as Chunk).times[this.#head] as number
  }

  /** Drops the front item; call only when not empty. A chunk goes once its last item has (the last chunk is full then). */
  shift(): void {
    this.#head++
    if (this.#head < CHUNK_KEYS) return
    this.#chunks.shift()
    this.#head = 0
  }

  /** Visits items from the front, without dropping any, until `visit` returns false. */
  visitFromFront(visit: (indexKey: string, decidedAtMs: number) => boolean): void {
    let at = this.#head
    for (const chunk of this.#chunks) {
      for (; at < chunk.keys.length; at++) if (!visit(chunk.keys[at] as string, chunk.times[at] as number)) return
      at = 0
    }
  }
}
