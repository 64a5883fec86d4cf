/**
 * A set for the few members most holders have: an array, searched in order, until it holds more than
 * `SMALL_SET_SCAN_MAX`; from then on a Set beside it answers `has`. Each order's execution ids live in one (inbox
 * dedupe, Order.execIds): an order that was acknowledged and then ended holds two, and the hot state keeps every order
 * that ended within the retire grace (an hour by default).
 *
 * Why: a JavaScriptCore Set holding one or two strings costs 257 bytes (the Set, 32, and its hash table, 225), which
 * was an eighth of the heap serve keeps per order (scripts/probe-heap-per-order.ts). This costs the object and its
 * array (about 80 bytes for two members), and every such byte is marked by each full collection and, while young, by
 * the eden collections whose pauses make bench:http's latency tail.
 *
 * Members iterate in insertion order, as a Set's do. `members` is public so that two equal sets compare equal under
 * toEqual; the index is derived from it and private.
 */

/** Members searched in order before a Set index is built. */
export const SMALL_SET_SCAN_MAX = 16

export class SmallSet<T> implements Iterable<T> {
  /** Insertion order, no duplicates. Read-only to callers: add() keeps it and the index in step. */
  readonly members: T[]
  #index: Set<T> | null = null

  constructor(members: Iterable<T> = []) {
    this.members = []
    for (const member of members) this.add(member)
  }

  get size(): number {
    return this.members.length
  }

  has(member: T): boolean {
    return this.#index === null ? this.members.includes(member) : this.#index.has(member)
  }

  add(member: T): this {
    if (this.has(member)) return this
    this.members.push(member)
    if (this.#index !== null) this.#index.add(member)
    else if (this.members.length > SMALL_SET_SCAN_MAX) this.#index = new Set(this.members)
    return this
  }

  /** A copy that can be added to without changing this one. */
  copy(): SmallSet<T> {
    return new SmallSet(this.members)
  }

  [Symbol.iterator](): ArrayIterator<T> {
    return this.members.values()
  }
}

/** Whether `value` is a Set or a SmallSet: what encoders that write sets as sorted lists test for (cf. isMapLike). */
export function isSetLike(value: unknown): value is Iterable<unknown> {
  return value instanceof Set || value instanceof SmallSet
}
