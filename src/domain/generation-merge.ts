/**
 * The merges of a GenerationalMap's generations (generational-map.ts), done a few entries at a time.
 *
 * Why: a merge copies every entry of a run of neighbouring generations into one new Map and hashes every key into its
 * filter. Done at once, in the write that started a new generation, that was one synchronous stretch of up to
 * `size / generationsTarget` entries: 6–10 ms for one map of 300k string keys (a micro-benchmark), and bench:http's
 * maps grow in step (orders, idempotency keys, the log index, the ledger, the sim's orders), so their merges came
 * together — 27 and 37 ms stretches in one half-load profile, each holding every request behind it. Here the
 * map copies a budget of entries in each write of a new key, enough that the copy is done before the next generation
 * starts, and swaps the merged generations in at the end.
 *
 * While a run is copied its sources stay in the map's list and answer every lookup; the copy is read from them with a
 * live Map iterator, which skips entries deleted before it reaches them and yields a replaced value as it is now. A
 * write to an entry already copied is made to the copy too (`replaced`, `deleted`), so the copy ends equal to its
 * sources, in their order.
 */

import { assert } from './assert.ts'
import { KeyFilter, keyHash } from './key-filter.ts'

/** One run of neighbouring generations (oldest first) and the generation they become. */
export interface MergeRun<K, V> {
  sources: Map<K, V>[]
  target: Map<K, V>
  filter: KeyFilter
}

/** The least entries one write copies while a merge is pending (the rest of the budget keeps pace with new keys). */
export const MERGE_STEP_ENTRIES_MIN = 16

export class GenerationMerge<K, V> {
  readonly runs: MergeRun<K, V>[]
  /** Each source generation's run target: a write to a source is made to the target once the entry was copied. */
  readonly #targetOf = new Map<Map<K, V>, Map<K, V>>()
  #runIndex = 0
  #sourceIndex = 0
  #iterator: MapIterator<[K, V]> | null = null
  /** Entries still to copy, as counted when the merge started (deletes since make it an upper bound). */
  #left: number

  /** Merges each run (two or more neighbouring generations, oldest first) into one. */
  constructor(runs: Map<K, V>[][]) {
    this.runs = runs.map((sources) => {
      const total = sources.reduce((sum, source) => sum + source.size, 0)
      const run = { sources, target: new Map<K, V>(), filter: new KeyFilter(total) }
      for (const source of sources) this.#targetOf.set(source, run.target)
      return run
    })
    this.#left = this.runs.reduce((sum, run) => sum + run.sources.reduce((total, source) => total + source.size, 0), 0)
  }

  /** Entries still to copy (an upper bound). */
  get left(): number {
    return this.#left
  }

  /** `key` in `source` was set to `value`: the copy follows if it holds the key already. */
  replaced(source: Map<K, V>, key: K, value: V): void {
    const target = this.#targetOf.get(source)
    if (target !== undefined && target.has(key)) target.set(key, value)
  }

  /** `key` was deleted from `source`: so it is from the copy. */
  deleted(source: Map<K, V>, key: K): void {
    this.#targetOf.get(source)?.delete(key)
  }

  /** Copies up to `budget` entries; returns how many it copied. `done` says whether every run is copied. */
  copy(budget: number): number {
    let copied = 0
    while (copied < budget && this.#runIndex < this.runs.length) {
      const run = this.runs[this.#runIndex]!
      if (this.#iterator === null) this.#iterator = run.sources[this.#sourceIndex]!.entries()
      const next = this.#iterator.next()
      if (next.done === true) {
        this.#iterator = null
        this.#sourceIndex++
        if (this.#sourceIndex === run.sources.length) {
          this.#sourceIndex = 0
          this.#runIndex++
        }
        continue
      }
      const [key, value] = next.value
      run.target.set(key, value)
      run.filter.add(keyHash(key))
      copied++
    }
    this.#left = Math.max(0, this.#left - copied)
    return copied
  }

  get done(): boolean {
    return this.#runIndex === this.runs.length
  }

  /**
   * Each merged run takes the place of its sources in `generations` and `filters` (same index; both changed in place):
   * its sources are still neighbours, as only the youngest end of the list grew.
   */
  swapIn(generations: Map<K, V>[], filters: KeyFilter[]): void {
    for (const run of this.runs) {
      const index = generations.indexOf(run.sources[0]!)
      assert(index >= 0 && run.sources.every((source, offset) => generations[index + offset] === source), 'a merged run is no longer in place')
      generations.splice(index, run.sources.length, run.target)
      filters.splice(index, run.sources.length, run.filter)
    }
  }
}

/**
 * The runs to merge among `generations` (none empty): each stretch of two or more neighbours that fit `sizeMax`
 * together. Afterwards any two neighbours hold more than `sizeMax`, as the map's doc says.
 */
export function mergeRuns<K, V>(generations: readonly Map<K, V>[], sizeMax: number): Map<K, V>[][] {
  const runs: Map<K, V>[][] = []
  let run: Map<K, V>[] = []
  let runSize = 0
  const closeRun = (): void => {
    if (run.length > 1) runs.push(run)
    run = []
    runSize = 0
  }
  for (const generation of generations) {
    if (runSize + generation.size > sizeMax) closeRun()
    run.push(generation)
    runSize += generation.size
  }
  closeRun()
  return runs
}
