/**
 * orderId → the ascending LSNs of some of its records: the log index's position lists (log-index.ts). The map holds a
 * number per order, the handle of a block in a slot arena (log-index-slots.ts), not an array: the lists cost the
 * collector no cell per order (see the arena for why that matters).
 *
 * A block of size class k is 2^k float64 slots: slot 0 is its header (count × CLASS_SPAN + k), then up to 2^k − 1 LSNs
 * in ascending order (LSNs are safe integers, exact in a float64). A full block is copied into one of the next class:
 * an order with 7 records (bench:http's IOC order) ends in a block of 8 slots, 64 bytes. Forgetting what compaction
 * removed shifts a list's kept positions down and moves it into a smaller block once it fills a quarter of its own.
 *
 * Reads hand out copies (a fresh array) or answer by index; nothing outside holds a view into the arena.
 */

import { GenerationalMap } from '../domain/generational-map.ts'
import { SlotArena } from './log-index-slots.ts'

/** The header's count is in units of this; the size class is the remainder (classes stay below it). */
const CLASS_SPAN = 64
/** The class a new order's list starts in: 2 slots, room for its first LSN. */
const FIRST_CLASS = 1

const headerOf = (count: number, sizeClass: number): number => count * CLASS_SPAN + sizeClass
const countOf = (header: number): number => Math.floor(header / CLASS_SPAN)
/** The smallest class whose block holds `count` LSNs besides its header. */
function classFor(count: number): number {
  let sizeClass = FIRST_CLASS
  while (2 ** sizeClass - 1 < count) sizeClass++
  return sizeClass
}

export class LsnLists {
  readonly #handles = new GenerationalMap<string, number>()
  readonly #slots = new SlotArena()

  /** Orders with a list. */
  get size(): number {
    return this.#handles.size
  }

  /** The bytes the lists' arena holds (free blocks included); the map's entries come on top. */
  get arenaBytes(): number {
    return this.#slots.bytes
  }

  has(orderId: string): boolean {
    return this.#handles.has(orderId)
  }

  /** The orders with a list, in the order they were first appended to (an iteration sees orders appended meanwhile). */
  orderIds(): IterableIterator<string> {
    return this.#handles.keys()
  }

  /** How many LSNs the order's list holds (0 for an order without one). */
  count(orderId: string): number {
    const handle = this.#handles.get(orderId)
    if (handle === undefined) return 0
    return countOf(this.#slots.chunkOf(handle)[this.#slots.offsetOf(handle)] as number)
  }

  /**
   * Adds `lsn` at the end of the order's list; an LSN not above the list's last is one it holds already (the start-up
   * scan and the durable-batch listener overlap) and is left out.
   */
  append(orderId: string, lsn: number): void {
    const slots = this.#slots
    const handle = this.#handles.get(orderId)
    if (handle === undefined) {
      const fresh = slots.allocate(FIRST_CLASS)
      const chunk = slots.chunkOf(fresh)
      const base = slots.offsetOf(fresh)
      chunk[base] = headerOf(1, FIRST_CLASS)
      chunk[base + 1] = lsn
      this.#handles.set(orderId, fresh)
      return
    }
    let chunk = slots.chunkOf(handle)
    let base = slots.offsetOf(handle)
    const header = chunk[base] as number
    const count = countOf(header)
    let sizeClass = header - count * CLASS_SPAN
    if ((chunk[base + count] as number) >= lsn) return
    if (count + 1 === 2 ** sizeClass) {
      sizeClass++
      const moved = this.move(handle, sizeClass)
      this.#handles.set(orderId, moved)
      chunk = slots.chunkOf(moved)
      base = slots.offsetOf(moved)
    }
    chunk[base + count + 1] = lsn
    chunk[base] = headerOf(count + 1, sizeClass)
  }

  /** The LSN at `index` of the order's list (undefined past its end or for an order without one). */
  at(orderId: string, index: number): number | undefined {
    const handle = this.#handles.get(orderId)
    if (handle === undefined || !Number.isInteger(index) || index < 0) return undefined
    const chunk = this.#slots.chunkOf(handle)
    const base = this.#slots.offsetOf(handle)
    return index < countOf(chunk[base] as number) ? chunk[base + 1 + index] : undefined
  }

  /** The index of the first LSN of the order's list greater than `afterLsn` (its count when none is): a binary search. */
  firstAfter(orderId: string, afterLsn: number): number {
    const handle = this.#handles.get(orderId)
    if (handle === undefined) return 0
    const chunk = this.#slots.chunkOf(handle)
    const base = this.#slots.offsetOf(handle)
    return firstAfterIn(chunk, base + 1, countOf(chunk[base] as number), afterLsn)
  }

  /** A copy of the order's LSNs from index `start` up to (not including) `end`, clamped to the list; [] for none. */
  slice(orderId: string, start: number, end: number): number[] {
    const handle = this.#handles.get(orderId)
    if (handle === undefined) return []
    const chunk = this.#slots.chunkOf(handle)
    const base = this.#slots.offsetOf(handle)
    const count = countOf(chunk[base] as number)
    const from = Math.max(0, Math.min(start, count))
    const to = Math.max(from, Math.min(end, count))
    const lsns = new Array<number>(to - from)
    for (let index = from; index < to; index++) lsns[index - from] = chunk[base + 1 + index] as number
    return lsns
  }

  /** A copy of the order's LSNs, oldest first ([] for an order without a list). */
  all(orderId: string): number[] {
    return this.slice(orderId, 0, Number.POSITIVE_INFINITY)
  }

  /**
   * Forgets the order's LSNs below `firstLsn`, and the order itself when none is left. A list left filling a quarter
   * of its block or less moves into a smaller one, so a long history that compaction thinned gives its room back.
   */
  dropBelow(orderId: string, firstLsn: number): void {
    const slots = this.#slots
    const handle = this.#handles.get(orderId)
    if (handle === undefined) return
    const chunk = slots.chunkOf(handle)
    const base = slots.offsetOf(handle)
    const header = chunk[base] as number
    const count = countOf(header)
    const sizeClass = header - count * CLASS_SPAN
    // Ascending: only a list that starts below the first LSN has anything to forget.
    if ((chunk[base + 1] as number) >= firstLsn) return
    const dropped = firstAfterIn(chunk, base + 1, count, firstLsn - 1)
    if (dropped === count) {
      slots.free(handle, sizeClass)
      this.#handles.delete(orderId)
      return
    }
    const kept = count - dropped
    chunk.copyWithin(base + 1, base + 1 + dropped, base + 1 + count)
    chunk[base] = headerOf(kept, sizeClass)
    if (classFor(kept) <= sizeClass - 2) this.#handles.set(orderId, this.move(handle, classFor(kept)))
  }

  /** Appends `newer`'s lists to these, order by order (every LSN in `newer` is later than any here). */
  appendAll(newer: LsnLists): void {
    for (const orderId of newer.orderIds()) for (const lsn of newer.all(orderId)) this.append(orderId, lsn)
  }

  clear(): void {
    this.#handles.clear()
    this.#slots.clear()
  }

  /** Copies the block `handle`'s header and LSNs into a new block of `sizeClass` (which holds them) and frees it. */
  private move(handle: number, sizeClass: number): number {
    const slots = this.#slots
    const target = slots.allocate(sizeClass)
    const from = slots.chunkOf(handle)
    const fromBase = slots.offsetOf(handle)
    const to = slots.chunkOf(target)
    const toBase = slots.offsetOf(target)
    const header = from[fromBase] as number
    const count = countOf(header)
    to[toBase] = headerOf(count, sizeClass)
    for (let index = 1; index <= count; index++) to[toBase + index] = from[fromBase + index] as number
    slots.free(handle, header - count * CLASS_SPAN)
    return target
  }
}

/** The index (0…count) of the first of the `count` ascending LSNs at `chunk[first…]` greater than `afterLsn`. */
function firstAfterIn(chunk: Float64Array, first: number, count: number, afterLsn: number): number {
  let low = 0
  let high = count
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((chunk[first + middle] as number) <= afterLsn) low = middle + 1
    else high = middle
  }
  return low
}
