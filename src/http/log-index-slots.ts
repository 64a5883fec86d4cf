/**
 * Where the log index keeps its LSN lists (log-index-lsns.ts): blocks of 2^k float64 slots (size class k) cut from
 * typed-array chunks, with a free list per class.
 *
 * Why not a number[] per order: every array is a heap cell (two, with its butterfly) that each full collection marks,
 * and the index keeps one per order in the retained log — a few hundred thousand at bench:http's load, ~87 bytes and
 * two cells per order on top of the map entry. A typed array's contents are one malloc'd store the collector never
 * walks: the index's lists cost it a handful of cells in all, however many orders it knows.
 *
 * A block is named by a handle, the position of its first slot (chunk index × CHUNK_SLOTS + offset): a plain number,
 * which a Map holds without a cell. A block larger than a chunk gets a chunk of its own (an order with tens of
 * thousands of records). A freed block goes onto its class's list for the next block of that class; blocks are never
 * coalesced, so the memory is bounded by the most blocks of each class held at once (clear() gives it all back).
 */

import { assert } from '../domain/assert.ts'

/** Slots per chunk as a power of two: 2^15 float64 slots, 256 KiB per chunk. */
export const CHUNK_CLASS = 15
const CHUNK_SLOTS = 2 ** CHUNK_CLASS
/** No block is larger than 2^CLASS_MAX slots (an order would need more records than a log holds in a day at full rate). */
export const CLASS_MAX = 40
const NONE = -1

export class SlotArena {
  /** Chunks by index; a class above CHUNK_CLASS has chunks of its own size (offset 0 only). */
  #chunks: Float64Array[] = []
  /** The chunk blocks are cut from, and the first slot not cut yet in it. */
  #bumpChunkIndex = NONE
  #bumpOffset = CHUNK_SLOTS
  /** Per class, the handle of the first free block (its slot 0 holds the next one's), NONE for none. */
  #freeHeads: number[] = []

  /** The chunk holding the block `handle`. */
  chunkOf(handle: number): Float64Array {
    return this.#chunks[Math.floor(handle / CHUNK_SLOTS)] as Float64Array
  }

  /** Where in its chunk the block `handle` starts. */
  offsetOf(handle: number): number {
    return handle % CHUNK_SLOTS
  }

  /** A block of 2^sizeClass slots (contents unspecified): from its class's free list, else cut from a chunk. */
  allocate(sizeClass: number): number {
    // A constant message: a closure building one would be allocated on every call (three per order).
    assert(Number.isInteger(sizeClass) && sizeClass >= 0 && sizeClass <= CLASS_MAX, 'a size class is an integer from 0 to CLASS_MAX')
    const free = this.#freeHeads[sizeClass] ?? NONE
    if (free !== NONE) {
      this.#freeHeads[sizeClass] = this.chunkOf(free)[this.offsetOf(free)] as number
      return free
    }
    if (sizeClass > CHUNK_CLASS) {
      this.#chunks.push(new Float64Array(2 ** sizeClass))
      return (this.#chunks.length - 1) * CHUNK_SLOTS
    }
    const slots = 2 ** sizeClass
    if (this.#bumpOffset + slots > CHUNK_SLOTS) this.startChunk()
    const handle = this.#bumpChunkIndex * CHUNK_SLOTS + this.#bumpOffset
    this.#bumpOffset += slots
    return handle
  }

  /** Gives the block back: the next allocate() of its class may hand it out. */
  free(handle: number, sizeClass: number): void {
    this.chunkOf(handle)[this.offsetOf(handle)] = this.#freeHeads[sizeClass] ?? NONE
    this.#freeHeads[sizeClass] = handle
  }

  /** Every block freed and every chunk dropped. */
  clear(): void {
    this.#chunks = []
    this.#bumpChunkIndex = NONE
    this.#bumpOffset = CHUNK_SLOTS
    this.#freeHeads = []
  }

  /** The bytes of the chunks held (what the arena costs, free blocks included). */
  get bytes(): number {
    let bytes = 0
    for (const chunk of this.#chunks) bytes += chunk.byteLength
    return bytes
  }

  /** A fresh chunk to cut from; what the old one had left goes onto the free lists, largest blocks first. */
  private startChunk(): void {
    if (this.#bumpChunkIndex !== NONE) {
      let left = CHUNK_SLOTS - this.#bumpOffset
      for (let sizeClass = CHUNK_CLASS - 1; sizeClass >= 0 && left > 0; sizeClass--) {
        if (left < 2 ** sizeClass) continue
        this.free(this.#bumpChunkIndex * CHUNK_SLOTS + this.#bumpOffset, sizeClass)
        this.#bumpOffset += 2 ** sizeClass
        left -= 2 ** sizeClass
      }
    }
    this.#chunks.push(new Float64Array(CHUNK_SLOTS))
    this.#bumpChunkIndex = this.#chunks.length - 1
    this.#bumpOffset = 0
  }
}
