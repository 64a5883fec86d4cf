/**
 * GenerationalMap's options, their checks, its observer's interface and its defaults (generational-map.ts says what
 * each is for).
 */

import { assert } from './assert.ts'

export interface GenerationalMapOptions {
  /** The least entries a new generation may hold before a younger one starts. */
  generationSizeMin: number
  /** The number of generations the size of new ones is chosen for (they grow as size / generationsTarget). */
  generationsTarget: number
  /**
   * The least entries a write copies while a merge is pending (default MERGE_STEP_ENTRIES_MIN). Specs set 1 so that
   * merges of tiny generations stay pending across writes, as large ones do in service.
   */
  mergeStepEntriesMin?: number
  /**
   * The keys a write of a new key walks while the filter of held keys is rebuilt (default HELD_FILTER_STEP_KEYS).
   * Specs set 1 so that rebuilds stay pending across many writes, merges and drops.
   */
  heldFilterStepKeys?: number
}

/** What observe() tells of: a key set that was not held (it goes last in the order), set again (it keeps its place), deleted, or all cleared. */
export interface GenerationalMapObserver<K, V> {
  added(key: K, value: V): void
  replaced(key: K, value: V, previous: V): void
  deleted(key: K, value: V): void
  cleared(): void
}

export const generationalMapDefaults: GenerationalMapOptions = { generationSizeMin: 4096, generationsTarget: 16 }

/** Asserts that every count in `options` is a positive integer (a map built with others is a bug). */
export function assertGenerationalMapOptions(options: GenerationalMapOptions): void {
  assert(Number.isSafeInteger(options.generationSizeMin) && options.generationSizeMin >= 1, () => `generationSizeMin must be a positive integer, got ${options.generationSizeMin}`)
  assert(Number.isSafeInteger(options.generationsTarget) && options.generationsTarget >= 1, () => `generationsTarget must be a positive integer, got ${options.generationsTarget}`)
  const stepMin = options.mergeStepEntriesMin
  assert(stepMin === undefined || (Number.isSafeInteger(stepMin) && stepMin >= 1), () => `mergeStepEntriesMin must be a positive integer, got ${stepMin}`)
  const heldStep = options.heldFilterStepKeys
  assert(heldStep === undefined || (Number.isSafeInteger(heldStep) && heldStep >= 1), () => `heldFilterStepKeys must be a positive integer, got ${heldStep}`)
}
