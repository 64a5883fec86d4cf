/**
 * A Map for the containers that gain an entry per order (the kernel's orders and idempotency index, the back
 * office's ledgers, the sim venue's orders), kept as a chain of generations of at most `generationSizeMax` entries
 * each. New keys go into the youngest generation; a key written or deleted again stays in the generation that holds
 * it.
 *
 * Why: JavaScriptCore's young-generation (eden) collection revisits every old container written since the previous
 * collection, whole — the write barrier remembers the container, not the slot. One plain Map of 200k orders, written
 * once per order, costs each eden collection a walk of all 200k entries: 8 such Maps took the median eden pause from
 * 0.7 ms to 22 ms (scripts/probe-gc-maps.ts), and those pauses were bench:http's p99 at half load. Here a write
 * dirties one generation, so the walk is bounded by `generationSizeMax` whatever the total.
 *
 * It behaves as a Map: the same answers, and iteration in insertion order (generations oldest first, each in its own
 * insertion order; a deleted key written again goes into the youngest generation, as a Map moves it to the end). The
 * price is a lookup per generation for a key that is not there, so the generation size grows with the total
 * (`size / generationsTarget`), keeping the count of generations near `generationsTarget` plus a few.
 *
 * Values may not be `undefined` (a lookup would not tell them from a missing key without a second probe).
 */

import { assert } from './assert.ts'

export interface GenerationalMapOptions {
  /** The least entries a new generation may hold before a younger one starts. */
  generationSizeMin: number
  /** The number of generations the size of new ones is chosen for (they grow as size / generationsTarget). */
  generationsTarget: number
}

export const generationalMapDefaults: GenerationalMapOptions = { generationSizeMin: 4096, generationsTarget: 16 }

export class GenerationalMap<K, V> implements Map<K, V> {
  /** Oldest first; the last is the youngest, which takes new keys. Only appended to while an iteration runs. */
  generations: Map<K, V>[]
  /** The entries the youngest generation may hold before a younger one starts. */
  youngSizeMax: number
  entryCount = 0
  /** Iterations in progress: while any runs, empty generations are kept so that an iterator's index stays valid. */
  iterationsActive = 0
  /**
   * The last key a lookup found in no generation, until the next write: callers ask `has`/`get` before they `set` a
   * new key, and this spares set() a second walk of every generation for it.
   */
  missedKey: K | undefined = undefined
  missedKnown = false
  readonly options: GenerationalMapOptions

  constructor(entries?: Iterable<readonly [K, V]> | null, options: GenerationalMapOptions = generationalMapDefaults) {
    assert(Number.isSafeInteger(options.generationSizeMin) && options.generationSizeMin >= 1, () => `generationSizeMin must be a positive integer, got ${options.generationSizeMin}`)
    assert(Number.isSafeInteger(options.generationsTarget) && options.generationsTarget >= 1, () => `generationsTarget must be a positive integer, got ${options.generationsTarget}`)
    this.options = options
    this.generations = [new Map()]
    this.youngSizeMax = options.generationSizeMin
    if (entries instanceof GenerationalMap) this.copyGenerations(entries as GenerationalMap<K, V>)
    else if (entries instanceof Map) this.appendUnique(entries as Map<K, V>)
    else if (entries !== undefined && entries !== null) for (const [key, value] of entries) this.set(key, value)
  }

  get size(): number {
    return this.entryCount
  }

  get(key: K): V | undefined {
    const generations = this.generations
    for (let index = generations.length - 1; index >= 0; index--) {
      const value = generations[index]!.get(key)
      if (value !== undefined) return value
    }
    this.missedKey = key
    this.missedKnown = true
    return undefined
  }

  has(key: K): boolean {
    return this.generationOf(key) !== null
  }

  set(key: K, value: V): this {
    assert(value !== undefined, 'a GenerationalMap value may not be undefined')
    const holder = this.missedKnown && this.missedKey === key ? null : this.generationOf(key)
    this.forgetMiss()
    if (holder !== null) {
      holder.set(key, value)
      return this
    }
    let young = this.generations[this.generations.length - 1]!
    if (young.size >= this.youngSizeMax) young = this.startGeneration()
    young.set(key, value)
    this.entryCount++
    return this
  }

  delete(key: K): boolean {
    const holder = this.generationOf(key)
    if (holder === null) return false
    this.forgetMiss()
    holder.delete(key)
    this.entryCount--
    return true
  }

  clear(): void {
    // Clearing every generation ends iterations in progress, as Map.clear does.
    for (const generation of this.generations) generation.clear()
    this.generations = [new Map()]
    this.youngSizeMax = this.options.generationSizeMin
    this.entryCount = 0
    this.forgetMiss()
  }

  forEach(callback: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this)
  }

  entries(): MapIterator<[K, V]> {
    return this.walk()
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.walk()) yield key
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.walk()) yield value
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.walk()
  }

  get [Symbol.toStringTag](): string {
    return 'GenerationalMap'
  }

  /** The generation holding `key`, youngest first (recent keys are the ones read most). */
  private generationOf(key: K): Map<K, V> | null {
    const generations = this.generations
    for (let index = generations.length - 1; index >= 0; index--) {
      const generation = generations[index]!
      if (generation.has(key)) return generation
    }
    this.missedKey = key
    this.missedKnown = true
    return null
  }

  private forgetMiss(): void {
    this.missedKey = undefined
    this.missedKnown = false
  }

  private startGeneration(): Map<K, V> {
    // Generations emptied by deletes are dropped here, never while an iterator holds an index into the list.
    if (this.iterationsActive === 0) this.generations = this.generations.filter((generation) => generation.size > 0)
    const young = new Map<K, V>()
    this.generations.push(young)
    this.youngSizeMax = Math.max(this.options.generationSizeMin, Math.ceil(this.entryCount / this.options.generationsTarget))
    return young
  }

  /** A copy of a GenerationalMap, generation by generation (each a native Map copy), without a lookup per entry. */
  private copyGenerations(source: GenerationalMap<K, V>): void {
    this.generations = source.generations.filter((generation) => generation.size > 0).map((generation) => new Map(generation))
    if (this.generations.length === 0) this.generations.push(new Map())
    this.youngSizeMax = source.youngSizeMax
    this.entryCount = source.entryCount
  }

  /** A Map's entries (unique keys, so none is looked up), in generations of the size set() would give them. */
  private appendUnique(source: Map<K, V>): void {
    let young = this.generations[0]!
    for (const [key, value] of source) {
      assert(value !== undefined, 'a GenerationalMap value may not be undefined')
      if (young.size >= this.youngSizeMax) young = this.startGeneration()
      young.set(key, value)
      this.entryCount++
    }
  }

  private *walk(): Generator<[K, V], undefined, unknown> {
    this.iterationsActive++
    try {
      // By index into the live list: a generation started during the walk is walked too, as a Map's iterator sees
      // entries added after it started.
      for (let index = 0; index < this.generations.length; index++) yield* this.generations[index]!
    } finally {
      this.iterationsActive--
    }
  }
}

/** Whether `value` is a Map or a GenerationalMap: what encoders that turn Maps into pairs test for. */
export function isMapLike(value: unknown): value is Map<unknown, unknown> {
  return value instanceof Map || value instanceof GenerationalMap
}
