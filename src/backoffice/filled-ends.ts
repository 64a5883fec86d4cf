/**
 * The ended orders that have a fill, per venue, in the order the ledger saw them end: the part of the held orders the
 * reconcile's trades check has something to compare in (held-order-index.ts keeps it beside the open-order index).
 *
 * Why: at bench:http's rates most orders end unfilled, and the trades check compared every order that ended within the
 * venue's trade history (five minutes of traffic for the sim venue), walking each of them twice on every run (the
 * ended-order list, then the check's own pass) although an order with no fill and no venue trade has nothing that could
 * differ. The list lets a run walk only the ended orders with a fill; the others are looked at one by one when a venue
 * trade or an open break names them (compared-window.ts).
 *
 * A node is appended when its order ends with a fill, or (`late`) when an ended order gets its first fill (a fill that
 * raced a cancel); it is unlinked when its order reopens or is retired. So the list holds at most the ledger's held
 * ended orders (retention.ts bounds those), and the non-late nodes are in the ended-order list's order: walked from the
 * newest, past the late ones, the first one that ended before a time the ended-order list is in order after
 * (endedOutOfOrderThroughMs) has only earlier ends behind it, late ones too (a late node joins after its order's end).
 * An unlinked node keeps `previous`, so a walk that pauses on it still reaches every older node.
 */

import type { TrackedOrder } from './orders.ts'

export interface FilledEnd {
  readonly order: TrackedOrder
  readonly endedAtMs: number
  /** Joined when its first fill came after its end, not at its end: a walk passes over it rather than stop. */
  readonly late: boolean
  previous: FilledEnd | null
  next: FilledEnd | null
}

interface VenueList {
  first: FilledEnd | null
  last: FilledEnd | null
}

export class FilledEnds {
  readonly #nodes = new Map<string, FilledEnd>()
  readonly #venues = new Map<string, VenueList>()

  get size(): number {
    return this.#nodes.size
  }

  get(orderId: string): FilledEnd | undefined {
    return this.#nodes.get(orderId)
  }

  /** The newest node of the venue's list, or null; walk older ones through `previous`. */
  newest(venue: string): FilledEnd | null {
    return this.#venues.get(venue)?.last ?? null
  }

  /** Adds `order` (ended at `endedAtMs`, with a fill) as the newest node; no-op when it is in already. */
  append(order: TrackedOrder, endedAtMs: number, late: boolean): void {
    if (this.#nodes.has(order.orderId)) return
    const list = this.#listOf(order.venue)
    const node: FilledEnd = { order, endedAtMs, late, previous: list.last, next: null }
    if (list.last === null) list.first = node
    else list.last.next = node
    list.last = node
    this.#nodes.set(order.orderId, node)
  }

  /** Adds `order` as the oldest node (the first walk over the ended-order list goes from the newest end); no-op when in. */
  prepend(order: TrackedOrder, endedAtMs: number): void {
    if (this.#nodes.has(order.orderId)) return
    const list = this.#listOf(order.venue)
    const node: FilledEnd = { order, endedAtMs, late: false, previous: null, next: list.first }
    if (list.first === null) list.last = node
    else list.first.previous = node
    list.first = node
    this.#nodes.set(order.orderId, node)
  }

  remove(orderId: string): void {
    const node = this.#nodes.get(orderId)
    if (node === undefined) return
    this.#nodes.delete(orderId)
    const list = this.#listOf(node.order.venue)
    if (node.previous === null) list.first = node.next
    else node.previous.next = node.next
    if (node.next === null) list.last = node.previous
    else node.next.previous = node.previous
  }

  #listOf(venue: string): VenueList {
    let list = this.#venues.get(venue)
    if (list === undefined) this.#venues.set(venue, (list = { first: null, last: null }))
    return list
  }
}
