/**
 * The orders not ended (every state but the terminal ones) grouped by a key — a venue, an instrument — each group with
 * its count and its smallest order ids, for a start's refusal or warning to name (venue-gone.ts,
 * src/cli/dropped-instruments.ts). One pass; the ids kept are bounded, however many orders a group holds.
 */

import type { Order } from '../domain/orders.ts'
import { isTerminal } from '../domain/states.ts'

/** One group: its key, how many orders, and the first `idsShown` of their ids, sorted. */
export interface OpenOrderGroup {
  key: string
  count: number
  orderIds: string[]
}

/** The groups in key order; `keyOf` null leaves an order out. */
export function openOrdersBy<O extends Pick<Order, 'orderId' | 'status'>>(orders: Iterable<O>, keyOf: (order: O) => string | null, idsShown: number): OpenOrderGroup[] {
  const groups = new OrderGroups(idsShown)
  for (const order of orders) {
    if (isTerminal(order.status)) continue
    const key = keyOf(order)
    if (key !== null) groups.add(key, order.orderId)
  }
  return groups.sorted()
}

/**
 * Order ids counted per key, the first `idsShown` of each kept (sorted): what openOrdersBy gathers, for a caller that
 * sorts the orders of one pass into more than one kind (venue-gone.ts: open, and ended awaiting a true-up).
 */
export class OrderGroups {
  private readonly groups = new Map<string, OpenOrderGroup>()

  constructor(private readonly idsShown: number) {}

  add(key: string, orderId: string): void {
    let group = this.groups.get(key)
    if (group === undefined) this.groups.set(key, (group = { key, count: 0, orderIds: [] }))
    group.count++
    keepSmallest(group.orderIds, orderId, this.idsShown)
  }

  get(key: string): OpenOrderGroup | undefined {
    return this.groups.get(key)
  }

  keys(): IterableIterator<string> {
    return this.groups.keys()
  }

  /** The groups in key order. */
  sorted(): OpenOrderGroup[] {
    return [...this.groups.values()].sort((a, b) => (a.key < b.key ? -1 : 1))
  }
}

/** Inserts `id` into `ids` (sorted, at most `shown`). */
function keepSmallest(ids: string[], id: string, shown: number): void {
  let at = ids.length
  while (at > 0 && (ids[at - 1] as string) > id) at--
  if (at >= shown) return
  ids.splice(at, 0, id)
  if (ids.length > shown) ids.pop()
}
