/**
 * A Map for the containers that gain an entry per order (the kernel's orders and idempotency index, the back
 * office's ledgers, the log index, the sim venue's orders), kept as a chain of bounded generations. New keys go into
 * the youngest generation; a key written or deleted again stays in the generation that holds it.
 *
 * Why: JavaScriptCore's young-generation (eden) collection revisits every old container written since the previous
 * collection, whole — the write barrier remembers the container, not the slot. One plain Map of 200k orders, written
 * once per order, costs each eden collection a walk of all 200k entries: 8 such Maps took the median eden pause from
 * 0.7 ms to 22 ms in one run (scripts/probe-gc-maps.ts; the figure varies a lot from run to run). Here a write
 * dirties one generation, so the walk is bounded by a generation's size: with 8 such containers of 200k the longest
 * eden pause fell from ~32 ms to 2–4 ms (probe:gc-maps).
 *
 * It behaves as a Map: the same answers, and iteration in insertion order (generations oldest first, each in its own
 * insertion order; a deleted key written again goes into the youngest generation, as a Map moves it to the end). The
 * price is a lookup per generation for a key that is not there, so generations are kept few: a new one is sized
 * `size / generationsTarget` (at least `generationSizeMin`), and whenever one starts, adjacent older ones that fit
 * that size together (small early ones, or ones deletes have thinned: orders retired around a long-resting one) are
 * merged. So any two neighbours hold more than it, and there are at most about 2 × generationsTarget + 1 of them (one
 * more while a merge is being copied). A merge is copied a few entries per write of a new key, not at once
 * (generation-merge.ts): done at once it held the event loop for up to `size / generationsTarget` entries.
 *
 * Each generation but the youngest is looked up only if its Bloom filter (key-filter.ts) says it may hold the key, so
 * a key that is not there costs a hash and a bit probe per generation, not a Map lookup in each; and the older ones
 * are walked only if one more filter, over every key the map holds (held-key-filter.ts), says the key may be there:
 * a new key (the commonest lookup: each new order's id and idempotency key is asked for, then set) costs two probes
 * in it instead of one per generation. A key a lookup found nowhere is remembered with its hash until the next write,
 * so the set() that follows neither walks nor hashes it again.
 *
 * One observer may be told of every change (observe()): an index kept beside the map in its order (the HTTP order
 * list's, src/http/order-list/) follows it exactly, retirements included, without a walk. It is called after the
 * change, must not throw and must not change the map; a copy of the map does not inherit it.
 *
 * Values may not be `undefined` (a lookup would not tell them from a missing key without a second probe). An iterator
 * left unfinished and never closed (`.next()` by hand, then dropped) stays counted and holds merging and dropping
 * generations off for good: iterate with for…of, spread or Array.from (they close what they leave), as callers do.
 */

import { assert } from './assert.ts'
import { copyOfGenerations } from './generation-copy.ts'
import { GenerationMerge, MERGE_STEP_ENTRIES_MIN, mergeRuns } from './generation-merge.ts'
import { HELD_FILTER_STEP_KEYS, HeldKeyFilter } from './held-key-filter.ts'
import { KeyFilter, keyHash } from './key-filter.ts'
import { assertGenerationalMapOptions, generationalMapDefaults, type GenerationalMapObserver, type GenerationalMapOptions } from './generational-map-options.ts'

export { generationalMapDefaults, type GenerationalMapObserver, type GenerationalMapOptions } from './generational-map-options.ts'

/** What #missedHash holds when the lookup that missed did not hash the key (the map had one generation). */
const HASH_UNKNOWN = -2

export class GenerationalMap<K, V> implements Map<K, V> {
  /** Oldest first; the last is the youngest, which takes new keys. Only appended to while an iteration runs. */
  generations: Map<K, V>[]
  // The rest is bookkeeping, private so that two maps holding the same generations compare equal (toEqual).
  readonly #options: GenerationalMapOptions
  /** One per generation, same index: the keys ever set into it (rebuilt when saturated or merged). */
  #filters: KeyFilter[]
  /** Every key held, whatever its generation: a key it has not seen is in none (held-key-filter.ts). */
  #held: HeldKeyFilter<K>
  /** The entries the youngest generation may hold before a younger one starts. */
  #youngSizeMax: number
  #entryCount = 0
  /** Iterations in progress: while any runs, generations are neither merged nor dropped (an iterator holds an index). */
  #iterationsActive = 0
  /**
   * The last key a lookup found in no generation, until the next write: callers ask `has`/`get` before they `set` a
   * new key, and this spares set() a second walk of every generation for it.
   */
  #missedKey: K | undefined = undefined
  #missedKnown = false
  /** The missed key's keyHash (HASH_UNKNOWN if the lookup did not hash it): set() adds it to the filters. */
  #missedHash = HASH_UNKNOWN
  #observer: GenerationalMapObserver<K, V> | null = null
  /** The merge being copied, if any: its sources stay in `generations` until it is swapped in. */
  #merge: GenerationMerge<K, V> | null = null
  #copiedByLastWrite = 0

  /**
   * From a GenerationalMap: a copy generation by generation. From a Map (keys known unique): appended without a lookup
   * per entry — build a plain Map first where entries are made one by one. From other pairs: set() each.
   */
  constructor(entries?: Iterable<readonly [K, V]> | null, options: GenerationalMapOptions = generationalMapDefaults) {
    assertGenerationalMapOptions(options)
    this.#options = options
    this.generations = [new Map()]
    this.#youngSizeMax = options.generationSizeMin
    this.#filters = [new KeyFilter(this.#youngSizeMax)]
    this.#held = this.newHeldFilter(0)
    if (entries instanceof GenerationalMap) this.copyGenerations(entries as GenerationalMap<K, V>)
    else if (entries instanceof Map) this.appendUnique(entries as Map<K, V>)
    else if (entries !== undefined && entries !== null) for (const [key, value] of entries) this.set(key, value)
  }

  get size(): number {
    return this.#entryCount
  }

  /** Tells `observer` of every later change (null: no one); replaces the one before. */
  observe(observer: GenerationalMapObserver<K, V> | null): void {
    this.#observer = observer
  }

  /** Iterations started and not yet finished or closed. */
  get iterationsActive(): number {
    return this.#iterationsActive
  }

  /** Whether a merge of generations is being copied (its sources are still in `generations`). */
  get mergePending(): boolean {
    return this.#merge !== null
  }

  /** Whether a fresh filter of held keys is being built (held-key-filter.ts): the old one answers meanwhile. */
  get heldFilterRebuilding(): boolean {
    return this.#held.rebuilding
  }

  /** How many entries the last set() copied into a merged generation: the bound on a write's extra work. */
  get copiedByLastWrite(): number {
    return this.#copiedByLastWrite
  }

  // get, has and set look in the youngest generation first and walk the older ones in methods of their own: the
  // common case (an order's key, read while the order is recent) stays small enough for the JIT to inline into its
  // callers. In bench:http's order flow (in-process, 70k orders, two profiles each side) the samples in this file's
  // methods fell from 0.90–1.02 s to 0.75 s: ~3 µs less per order.
  get(key: K): V | undefined {
    const generations = this.generations
    const young = generations[generations.length - 1]!.get(key)
    return young !== undefined ? young : this.getOlder(key)
  }

  has(key: K): boolean {
    return this.generationOf(key, true) !== null
  }

  set(key: K, value: V): this {
    assert(value !== undefined, 'a GenerationalMap value may not be undefined')
    // A miss, remembered or found now, leaves the key's hash in #missedHash (generationOf misses through olderHolderOf).
    const holder = this.#missedKnown && this.#missedKey === key ? null : this.generationOf(key, true)
    const missedHash = this.#missedHash
    this.forgetMiss()
    this.#copiedByLastWrite = 0
    if (holder !== null) {
      const observer = this.#observer
      const previous = observer === null ? undefined : holder.get(key)
      holder.set(key, value)
      this.#merge?.replaced(holder, key, value)
      observer?.replaced(key, value, previous as V)
      return this
    }
    let young = this.generations[this.generations.length - 1]!
    if (young.size >= this.#youngSizeMax) young = this.startGeneration()
    young.set(key, value)
    this.noteNewKey(missedHash !== HASH_UNKNOWN ? missedHash : keyHash(key))
    this.#entryCount++
    if (this.#merge !== null) this.mergeStep(this.#merge, young)
    this.#observer?.added(key, value)
    return this
  }

  delete(key: K): boolean {
    // Deletes are of keys held (retention retires them), for which the filter of held keys would only say "maybe".
    const holder = this.generationOf(key, false)
    if (holder === null) return false
    this.forgetMiss()
    const observer = this.#observer
    const value = observer === null ? undefined : holder.get(key)
    holder.delete(key)
    this.#merge?.deleted(holder, key)
    this.#entryCount--
    observer?.deleted(key, value as V)
    return true
  }

  clear(): void {
    for (const generation of this.generations) generation.clear()
    // While a walk runs the emptied list stays: the walk goes on to the youngest and sees keys set after the clear,
    // as a Map iterator does.
    if (this.#iterationsActive === 0) this.generations = [new Map()]
    this.#youngSizeMax = this.#options.generationSizeMin
    this.#filters = this.generations.map(() => new KeyFilter(this.#youngSizeMax))
    this.#held = this.newHeldFilter(0)
    this.#entryCount = 0
    this.#merge = null
    this.forgetMiss()
    this.#observer?.cleared()
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

  /** A key not in the youngest generation: its value in an older one, or undefined (remembered as missed). */
  private getOlder(key: K): V | undefined {
    return this.olderHolderOf(key, true)?.get(key)
  }

  /** The generation holding `key`, youngest first (recent keys are the ones read most). */
  private generationOf(key: K, heldFirst: boolean): Map<K, V> | null {
    const generations = this.generations
    const young = generations[generations.length - 1]!
    return young.has(key) ? young : this.olderHolderOf(key, heldFirst)
  }

  /**
   * The older generation holding a key the youngest does not, newest first (with `heldFirst`, walked only if the
   * filter of held keys may hold it); null for none, remembered as missed with the key's hash.
   */
  private olderHolderOf(key: K, heldFirst: boolean): Map<K, V> | null {
    const generations = this.generations
    const youngest = generations.length - 1
    let hash = HASH_UNKNOWN
    if (youngest > 0) {
      hash = keyHash(key)
      if (!heldFirst || this.#held.mayHold(hash)) {
        const filters = this.#filters
        for (let index = youngest - 1; index >= 0; index--) {
          if (!filters[index]!.mayHold(hash)) continue
          const generation = generations[index]!
          if (generation.has(key)) return generation
        }
      }
    }
    this.#missedKey = key
    this.#missedKnown = true
    this.#missedHash = hash
    return null
  }

  private forgetMiss(): void {
    this.#missedKey = undefined
    this.#missedKnown = false
    this.#missedHash = HASH_UNKNOWN
  }

  /**
   * A key just set into the youngest generation goes into its filter and the filter of held keys; a generation's
   * filter that saturated is rebuilt, the filter of held keys a few keys per new key (held-key-filter.ts).
   */
  private noteNewKey(hash: number): void {
    const youngest = this.generations.length - 1
    const filter = this.#filters[youngest]!
    filter.add(hash)
    this.#held.add(hash)
    this.#held.step(this.generations, this.#entryCount)
    if (filter.saturated) {
      const young = this.generations[youngest]!
      this.#filters[youngest] = KeyFilter.of(young.keys(), young.size, this.#youngSizeMax)
    }
  }

  /**
   * Empty generations are dropped at once (no iteration running), and the runs of neighbours that fit the new size
   * together start merging — unless a merge is still being copied (an iteration held its swap off): then the next.
   */
  private startGeneration(): Map<K, V> {
    this.#youngSizeMax = Math.max(this.#options.generationSizeMin, Math.ceil(this.#entryCount / this.#options.generationsTarget))
    if (this.#iterationsActive === 0 && this.#merge === null) {
      const kept = this.generations.map((_, index) => index).filter((index) => this.generations[index]!.size > 0)
      if (kept.length < this.generations.length) {
        this.generations = kept.map((index) => this.generations[index]!)
        this.#filters = kept.map((index) => this.#filters[index]!)
      }
      const runs = mergeRuns(this.generations, this.#youngSizeMax)
      if (runs.length > 0) this.#merge = new GenerationMerge(runs)
    }
    const young = new Map<K, V>()
    this.generations.push(young)
    this.#filters.push(new KeyFilter(this.#youngSizeMax))
    return young
  }

  /**
   * Copies a share of the pending merge: enough that it is done before the youngest generation fills (at least
   * MERGE_STEP_ENTRIES_MIN), so merges never pile up; swapped in once copied and no iteration runs.
   */
  private mergeStep(merge: GenerationMerge<K, V>, young: Map<K, V>): void {
    const writesLeft = Math.max(1, this.#youngSizeMax - young.size)
    this.#copiedByLastWrite = merge.copy(Math.max(this.#options.mergeStepEntriesMin ?? MERGE_STEP_ENTRIES_MIN, Math.ceil(merge.left / writesLeft)))
    if (merge.done && this.#iterationsActive === 0) this.swapMerged(merge)
  }

  /** Each merged run takes the place of its sources (generation-merge.ts swapIn); the merge is over. */
  private swapMerged(merge: GenerationMerge<K, V>): void {
    merge.swapIn(this.generations, this.#filters)
    this.#merge = null
  }

  /** The pending merge copied and swapped in at once (bulk loads, where no request waits). */
  private finishMerge(): void {
    const merge = this.#merge
    if (merge === null) return
    merge.copy(Number.POSITIVE_INFINITY)
    this.swapMerged(merge)
  }

  /**
   * A copy whose values are `copyValue` of these (a deep copy's step: the kernel's orders, the back office's), the
   * same keys in the same generations and order, the filters copied rather than every key hashed again.
   */
  copyWith(copyValue: (value: V) => V): GenerationalMap<K, V> {
    const copy = new GenerationalMap<K, V>(null, this.#options)
    copy.copyGenerations(this, copyValue)
    return copy
  }

  /** copyWith of `source`, or of a plain Map (a state built by hand): each value copied into a GenerationalMap. */
  static copyOf<K, V>(source: Map<K, V>, copyValue: (value: V) => V): GenerationalMap<K, V> {
    if (source instanceof GenerationalMap) return source.copyWith(copyValue)
    return new GenerationalMap(new Map([...source].map(([key, value]) => [key, copyValue(value)])))
  }

  /**
   * A copy of a GenerationalMap, generation by generation and without a lookup per entry (generation-copy.ts); the
   * filter of held keys copied too, not rebuilt.
   */
  private copyGenerations(source: GenerationalMap<K, V>, copyValue: ((value: V) => V) | null = null): void {
    const copied = copyOfGenerations({ generations: source.generations, filters: source.#filters }, copyValue)
    this.generations = copied.generations
    this.#filters = copied.filters
    this.#youngSizeMax = source.#youngSizeMax
    if (this.generations.length === 0) {
      this.generations.push(new Map())
      this.#filters.push(new KeyFilter(this.#youngSizeMax))
    }
    this.#held = source.#held.copy()
    this.#entryCount = source.#entryCount
  }

  /** A Map's entries (unique keys, so none is looked up), in generations of the size set() would give them. */
  private appendUnique(source: Map<K, V>): void {
    this.#held = this.newHeldFilter(source.size)
    let young = this.generations[0]!
    for (const [key, value] of source) {
      assert(value !== undefined, 'a GenerationalMap value may not be undefined')
      if (young.size >= this.#youngSizeMax) {
        this.finishMerge()
        young = this.startGeneration()
      }
      young.set(key, value)
      this.noteCopiedKey(this.#filters[this.#filters.length - 1]!, keyHash(key))
      this.#entryCount++
    }
    this.finishMerge()
  }

  /** An empty filter of held keys, sized for `count` keys (at least generationSizeMin). */
  private newHeldFilter(count: number): HeldKeyFilter<K> {
    const options = this.#options
    return new HeldKeyFilter({ capacityMin: options.generationSizeMin, stepKeys: options.heldFilterStepKeys ?? HELD_FILTER_STEP_KEYS }, count)
  }

  /** A key of a bulk load or copy (the filter of held keys was sized for them all): hashed once for both filters. */
  private noteCopiedKey(filter: KeyFilter, hash: number): void {
    filter.add(hash)
    this.#held.add(hash)
  }

  private *walk(): Generator<[K, V], undefined, unknown> {
    this.#iterationsActive++
    try {
      // By index into the live list: a generation started during the walk is walked too, as a Map's iterator sees
      // entries added after it started.
      for (let index = 0; index < this.generations.length; index++) yield* this.generations[index]!
    } finally {
      this.#iterationsActive--
    }
  }
}
