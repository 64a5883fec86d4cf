/**
 * A set for the few members most holders have: its members are its own indexed properties, searched in order, until
 * it holds more than `SMALL_SET_SCAN_MAX`; from then on a Set beside them answers `has`. Each order's execution ids
 * live in one (inbox dedupe, Order.execIds): an order that was acknowledged and then ended holds two, and the hot state
 * keeps every order that ended within the retire grace (an hour by default).
 *
 * Why: a JavaScriptCore Set holding one or two strings costs 257 bytes (the Set, 32, and its hash table, 225), which
 * was an eighth of the heap serve keeps per order (scripts/probe-heap-per-order.ts). An object with an array member
 * cost two cells; members held as the object's indexed properties live in its own storage, so a small set is one
 * cell. Every cell is marked by each full collection and, while young, by the eden collections whose pauses make
 * bench:http's latency tail.
 *
 * Members iterate in insertion order, as a Set's do. They are public (indexes 0 … size − 1) so that two sets with the
 * same members in the same order compare equal under toEqual; the index is derived from them and private.
 */

/** Members searched in order before a Set index is built. */
export const SMALL_SET_SCAN_MAX = 16

export class SmallSet<T> implements Iterable<T> {
  /** Members, in insertion order, without duplicates. Read-only to callers: add() keeps them, size and the index in step. */
  readonly [position: number]: T
  /** How many members: they are at indexes 0 … size − 1. */
  size = 0
  #index: Set<T> | null = null

  constructor(members: Iterable<T> = []) {
    for (const member of members) this.add(member)
  }

  /** The members as a new array, in insertion order. */
  get members(): T[] {
    const members = new Array<T>(this.size)
    for (let position = 0; position < this.size; position++) members[position] = this[position] as T
    return members
  }

  has(member: T): boolean {
    if (this.#index !== null) return this.#index.has(member)
    for (let position = 0; position < this.size; position++) if (this[position] === member) return true
    return false
  }

  add(member: T): this {
    if (this.has(member)) return this
    ;(this as { [position: number]: T })[this.size++] = member
    if (this.#index !== null) this.#index.add(member)
    else if (this.size > SMALL_SET_SCAN_MAX) this.#index = new Set(this.members)
    return this
  }

  /** A copy that can be added to without changing this one. */
  copy(): SmallSet<T> {
    // Member by member, without add()'s search: these are already unique (a snapshot's capture copies one per order).
    const copy = new SmallSet<T>()
    const members = copy as { [position: number]: T }
    for (let position = 0; position < this.size; position++) members[position] = this[position] as T
    copy.size = this.size
    if (this.#index !== null) copy.#index = new Set(this.#index)
    return copy
  }

  *[Symbol.iterator](): Generator<T, void, undefined> {
    for (let position = 0; position < this.size; position++) yield this[position] as T
  }
}

/** Whether `value` is a Set or a SmallSet: what encoders that write sets as sorted lists test for (cf. isMapLike). */
export function isSetLike(value: unknown): value is Iterable<unknown> {
  return value instanceof Set || value instanceof SmallSet
}
