/**
 * A list of entries in increasing `seq`, in chunks: appended at the end, found by seq in O(log n), and rid of the
 * entries that died (an order retired) without moving the rest. An entry dies in place (`live` false, the list told
 * through noteDead); a chunk is compacted once half of it is dead, and merged into the one before when both fit one
 * chunk, so every chunk holds fewer dead entries than live ones, and a walk skips fewer dead entries than it reads live ones
 * (plus part of the chunk it starts in).
 *
 * Chunks keep the appends to one small array (the youngest chunk): the collector's eden pass revisits only containers
 * written since it last ran, so a million-entry array written at its end would be revisited whole each time
 * (src/domain/generational-map.ts says more).
 */

import { assert } from '../../domain/assert.ts'

export interface SeqEntry {
  readonly seq: number
  live: boolean
}

interface Chunk<T> {
  entries: T[]
  dead: number
}

/** Entries a chunk holds at most. */
export const SEQ_CHUNK_ENTRIES_MAX = 256

export class SeqList<T extends SeqEntry> {
  /** Never empty chunks, in increasing seq; the last takes appends. */
  private readonly chunks: Chunk<T>[] = []
  private liveCount = 0

  /** Entries alive. */
  get size(): number {
    return this.liveCount
  }

  /** Dead entries not compacted away yet (for the bound's spec). */
  get deadHeld(): number {
    let dead = 0
    for (const chunk of this.chunks) dead += chunk.dead
    return dead
  }

  append(entry: T): void {
    const last = this.chunks.at(-1)
    assert(last === undefined || (last.entries.at(-1) as T).seq < entry.seq, 'entries must be appended in increasing seq')
    if (last !== undefined && last.entries.length < SEQ_CHUNK_ENTRIES_MAX) last.entries.push(entry)
    else this.chunks.push({ entries: [entry], dead: 0 })
    this.liveCount++
  }

  /** `entry` (held here, now `live` false) died: counted, and its chunk compacted once half of it is dead. */
  noteDead(entry: T): void {
    const index = this.chunkIndexOf(entry.seq)
    const chunk = this.chunks[index]
    assert(chunk !== undefined && !entry.live, () => `entry ${entry.seq} is not a dead entry of this list`)
    chunk.dead++
    this.liveCount--
    if (chunk.dead * 2 >= chunk.entries.length) this.compact(index)
  }

  /** A walk of the live entries with seq above `afterSeq` (from the start for 0), in increasing seq. */
  walkAfter(afterSeq: number): SeqWalk<T> {
    return this.walkFrom((entry) => entry.seq <= afterSeq)
  }

  /**
   * A walk of the live entries from the first one (dead or alive) that `before` refuses, in O(log n): `before` must
   * hold for a prefix of the list and for nothing after it.
   */
  walkFrom(before: (entry: T) => boolean): SeqWalk<T> {
    const chunks = this.chunks
    let low = 0
    let high = chunks.length
    while (low < high) {
      const middle = (low + high) >> 1
      if (before((chunks[middle] as Chunk<T>).entries.at(-1) as T)) low = middle + 1
      else high = middle
    }
    if (low === chunks.length) return new SeqWalk(chunks, low, 0)
    const entries = (chunks[low] as Chunk<T>).entries
    let first = 0
    let last = entries.length
    while (first < last) {
      const middle = (first + last) >> 1
      if (before(entries[middle] as T)) first = middle + 1
      else last = middle
    }
    return new SeqWalk(chunks, low, first)
  }

  /** The first entry, dead or alive, or null for an empty list. */
  first(): T | null {
    return this.chunks[0]?.entries[0] ?? null
  }

  /** The index of the last chunk whose first seq is at or below `seq`; -1 when none is. */
  private chunkIndexOf(seq: number): number {
    const chunks = this.chunks
    let low = 0
    let high = chunks.length - 1
    let found = -1
    while (low <= high) {
      const middle = (low + high) >> 1
      if ((chunks[middle] as Chunk<T>).entries[0]!.seq <= seq) {
        found = middle
        low = middle + 1
      } else high = middle - 1
    }
    return found
  }

  private compact(index: number): void {
    const chunk = this.chunks[index] as Chunk<T>
    const kept = chunk.entries.filter((entry) => entry.live)
    const before = index > 0 ? (this.chunks[index - 1] as Chunk<T>) : null
    if (kept.length === 0) {
      this.chunks.splice(index, 1)
    } else if (before !== null && before.entries.length - before.dead + kept.length <= SEQ_CHUNK_ENTRIES_MAX) {
      before.entries = before.dead === 0 ? before.entries.concat(kept) : before.entries.filter((entry) => entry.live).concat(kept)
      before.dead = 0
      this.chunks.splice(index, 1)
    } else {
      chunk.entries = kept
      chunk.dead = 0
    }
  }
}

/** A walk over a list that does not change while it runs (one request, on the main thread). */
export class SeqWalk<T extends SeqEntry> {
  private readonly chunks: readonly Chunk<T>[]
  private chunkIndex: number
  private offset: number

  constructor(chunks: readonly Chunk<T>[], chunkIndex: number, offset: number) {
    this.chunks = chunks
    this.chunkIndex = chunkIndex
    this.offset = offset
  }

  /** The next live entry, or null at the end. */
  next(): T | null {
    const chunks = this.chunks
    while (this.chunkIndex < chunks.length) {
      const entries = (chunks[this.chunkIndex] as Chunk<T>).entries
      while (this.offset < entries.length) {
        const entry = entries[this.offset++] as T
        if (entry.live) return entry
      }
      this.chunkIndex++
      this.offset = 0
    }
    return null
  }
}
