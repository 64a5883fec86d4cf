/**
 * One Bloom filter (key-filter.ts) over every key a GenerationalMap holds, whatever its generation: a key it says is
 * "not here" is in no generation, and the map answers without asking each older generation's filter.
 *
 * Why: the map's commonest lookup is of a key it does not hold — every new order id and idempotency key is asked for
 * (has, get) and then set, in each of the per-order maps. The per-generation filters answer that with a probe in
 * each older generation's bit array: 16 to 33 arrays for a map past ~65k keys, each a separate block of memory, so
 * under load a cache miss per generation. This answers it with two probes in one array.
 *
 * Keys are never removed from a Bloom filter, so as keys come and go (retention) it fills up. Once it has taken
 * twice the keys it was sized for (`saturated`) a fresh one is built beside it, sized for the map as it is then, from
 * the keys the map holds: a few keys per write of a new key (`step`), as merges are copied (generation-merge.ts),
 * because one pass over a map of a million keys would hold the event loop for tens of milliseconds. Until the fresh
 * one is complete the old one answers (it is still a superset: it keeps taking every new key), and every new key goes
 * into both. The fresh one reads the generations the map had when it started, with live Map iterators: a key held
 * then and still held is met (an entry no write removed stays in its Map, and a merge leaves its sources whole), and a
 * key set since went in when it was set. The generations merged away meanwhile stay reachable until the walk is done.
 * Its bits are a typed array, as the per-generation filters' are: setting them is no write the collector remembers.
 */

import { KeyFilter, keyHash } from './key-filter.ts'

/**
 * The keys a write of a new key walks while a fresh filter is built (default): the fresh one, sized for the keys held
 * when it starts, then ends long before it saturates.
 */
export const HELD_FILTER_STEP_KEYS = 8

export class HeldKeyFilter<K> {
  #current: KeyFilter
  /** The fresh filter being built, the generations it reads (as they were when it started), and where it is. */
  #next: KeyFilter | null = null
  #sources: Map<K, unknown>[] = []
  #sourceIndex = 0
  #iterator: MapIterator<K> | null = null
  readonly #capacityMin: number
  readonly #stepKeys: number

  /** An empty filter sized for `capacity` keys; any fresh one is sized for at least `capacityMin`, built `stepKeys` keys per step. */
  constructor(options: { capacityMin: number; stepKeys: number }, capacity = options.capacityMin) {
    const { capacityMin } = options
    this.#capacityMin = capacityMin
    this.#stepKeys = options.stepKeys
    this.#current = new KeyFilter(Math.max(capacityMin, capacity))
  }

  /**
   * A filter answering as this one does, for a copy of its map: the filter in use copied (a fresh one being built is
   * not: the copy starts one of its own once the copied one saturates).
   */
  copy(): HeldKeyFilter<K> {
    const copy = new HeldKeyFilter<K>({ capacityMin: this.#capacityMin, stepKeys: this.#stepKeys }, 0)
    copy.#current = this.#current.copy()
    return copy
  }

  /** Whether a fresh filter is being built. */
  get rebuilding(): boolean {
    return this.#next !== null
  }

  /** False only if no key with this hash was added since the filter in use was started. */
  mayHold(hash: number): boolean {
    return this.#current.mayHold(hash)
  }

  /** A key set into the map that it did not hold. */
  add(hash: number): void {
    this.#current.add(hash)
    this.#next?.add(hash)
  }

  /**
   * After a write of a new key: starts a fresh filter once this one saturated, or walks a few more keys into the one
   * being built (swapped in when every generation it reads is walked). `generations` is the map's list now.
   */
  step(generations: readonly Map<K, unknown>[], heldCount: number): void {
    if (this.#next === null) {
      if (!this.#current.saturated) return
      this.#next = new KeyFilter(Math.max(this.#capacityMin, heldCount))
      this.#sources = [...generations]
      this.#sourceIndex = 0
      this.#iterator = null
    }
    const next = this.#next
    let walked = 0
    while (walked < this.#stepKeys) {
      if (this.#iterator === null) {
        if (this.#sourceIndex === this.#sources.length) {
          this.#current = next
          this.#next = null
          this.#sources = []
          return
        }
        this.#iterator = this.#sources[this.#sourceIndex]!.keys()
      }
      const entry = this.#iterator.next()
      if (entry.done === true) {
        this.#iterator = null
        this.#sourceIndex++
        continue
      }
      next.add(keyHash(entry.value))
      walked++
    }
  }
}
