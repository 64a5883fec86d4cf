/**
 * Copying a GenerationalMap's generations (generational-map.ts: copyWith, and a map built from another): generation by
 * generation, each a native Map copy or built entry by entry with each value copied, so no entry is looked up; each
 * generation's filter copied, not rebuilt (a filter answers for every key its generation holds, and "maybe" for a few
 * more: so does its copy). Empty generations are left out.
 */

import type { KeyFilter } from './key-filter.ts'

/** A GenerationalMap's list of generations and their filters (same index). */
export interface GenerationList<K, V> {
  generations: Map<K, V>[]
  filters: KeyFilter[]
}

/** A copy of `source`'s non-empty generations and their filters; values copied by `copyValue` (null: kept). */
export function copyOfGenerations<K, V>(source: Readonly<GenerationList<K, V>>, copyValue: ((value: V) => V) | null): GenerationList<K, V> {
  const kept = source.generations.map((_, index) => index).filter((index) => source.generations[index]!.size > 0)
  const generations = kept.map((index) => {
    const generation = source.generations[index]!
    if (copyValue === null) return new Map(generation)
    const copy = new Map<K, V>()
    for (const [key, value] of generation) copy.set(key, copyValue(value))
    return copy
  })
  const filters = kept.map((index) => source.filters[index]!.copy())
  return { generations, filters }
}
