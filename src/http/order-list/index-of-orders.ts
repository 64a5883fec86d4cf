/**
 * The kernel's orders in acceptance order, kept beside `state.orders` for `GET /v1/orders`: every order once in one
 * list and once in its account's, numbered by a counter in the order the Map holds them, and found by id. A page then
 * starts at its cursor in O(log n) and a scoped reader walks only its accounts' orders; walking the Map from its
 * start cost O(position) per page on the thread that decides orders, and the Map holds every order that ended within
 * the last hour (src/kernel/retention.ts).
 *
 * It follows the Map itself (GenerationalMap.observe), not the log: an order enters when the kernel applies its
 * acceptance (before it is durable, as the Map shows it) and leaves when retirement deletes it, which no event names.
 * So the lists hold exactly the Map's orders in the Map's order (a key deleted and set again goes last, as in the Map).
 * Built from the Map once (O(n), at start); then O(1) per order accepted and O(log n) per order retired, on the main
 * thread inside apply. An observer must not throw there (apply would halt the log): a failure marks the index stale,
 * and the next read rebuilds it from the Map.
 *
 * Memory: per order held, one entry, a slot in two lists and one in the id map; per retired order nothing once its
 * chunk is compacted (seq-list.ts: fewer dead entries than live ones).
 */

import { GenerationalMap, type GenerationalMapObserver } from '../../domain/generational-map.ts'
import type { Order } from '../../domain/orders.ts'
import { SeqList, type SeqWalk } from './seq-list.ts'

export interface OrderEntry {
  /** Position in the Map's order: increasing, never reused within this index. */
  readonly seq: number
  readonly orderId: string
  order: Order
  live: boolean
}

export class OrderListIndex implements GenerationalMapObserver<string, Order> {
  private readonly orders: GenerationalMap<string, Order>
  private byId = new GenerationalMap<string, OrderEntry>()
  private all = new SeqList<OrderEntry>()
  private byAccount = new Map<string, SeqList<OrderEntry>>()
  private nextSeq = 1
  /** A change could not be followed (see the header): rebuilt from the Map before the next read. */
  private stale: unknown = null
  private readonly onStale: (error: unknown) => void

  /** Builds the index from `orders` and follows it from then on. `onStale` hears of a change it could not follow. */
  constructor(orders: Map<string, Order>, onStale: (error: unknown) => void = () => {}) {
    if (!(orders instanceof GenerationalMap)) throw new TypeError('the order list index follows a GenerationalMap')
    this.orders = orders
    this.onStale = onStale
    this.rebuild()
    orders.observe(this)
  }

  /** Stops following the Map. */
  close(): void {
    this.orders.observe(null)
  }

  get size(): number {
    return this.all.size
  }

  /** Dead entries not yet compacted away, in the global list (bounded by its live ones). */
  get deadHeld(): number {
    return this.all.deadHeld
  }

  /** The live entry of `orderId`, or undefined for an order the kernel does not hold. */
  entryOf(orderId: string): OrderEntry | undefined {
    this.refresh()
    return this.byId.get(orderId)
  }

  /** Every order after `afterSeq` (0: from the start), in order. */
  walkAll(afterSeq: number): SeqWalk<OrderEntry> {
    this.refresh()
    return this.all.walkAfter(afterSeq)
  }

  /** `accountId`'s orders after `afterSeq`, in order; null when the kernel holds none of them. */
  walkAccount(accountId: string, afterSeq: number): SeqWalk<OrderEntry> | null {
    this.refresh()
    return this.byAccount.get(accountId)?.walkAfter(afterSeq) ?? null
  }

  added(orderId: string, order: Order): void {
    try {
      this.add(orderId, order)
    } catch (error) {
      this.markStale(error)
    }
  }

  replaced(orderId: string, order: Order): void {
    try {
      const entry = this.byId.get(orderId)
      // An order's account never changes; if it did, the entry would sit in the wrong account's list.
      if (entry === undefined || entry.order.accountId !== order.accountId) throw new Error(`order ${orderId} was set again with another account`)
      entry.order = order
    } catch (error) {
      this.markStale(error)
    }
  }

  deleted(orderId: string): void {
    try {
      const entry = this.byId.get(orderId)
      if (entry === undefined) throw new Error(`order ${orderId} left the Map without an entry in the index`)
      this.byId.delete(orderId)
      entry.live = false
      this.all.noteDead(entry)
      const accountId = entry.order.accountId
      const account = this.byAccount.get(accountId)
      if (account === undefined) throw new Error(`order ${orderId} has no list for its account ${accountId}`)
      account.noteDead(entry)
      if (account.size === 0) this.byAccount.delete(accountId)
    } catch (error) {
      this.markStale(error)
    }
  }

  cleared(): void {
    this.rebuild()
  }

  private add(orderId: string, order: Order): void {
    const entry: OrderEntry = { seq: this.nextSeq++, orderId, order, live: true }
    this.byId.set(orderId, entry)
    this.all.append(entry)
    let account = this.byAccount.get(order.accountId)
    if (account === undefined) this.byAccount.set(order.accountId, (account = new SeqList()))
    account.append(entry)
  }

  private markStale(error: unknown): void {
    if (this.stale !== null) return
    this.stale = error ?? new Error('unknown failure')
    try {
      this.onStale(error)
    } catch {
      // Nothing thrown here may reach apply.
    }
  }

  private refresh(): void {
    if (this.stale !== null) this.rebuild()
  }

  private rebuild(): void {
    this.byId = new GenerationalMap()
    this.all = new SeqList()
    this.byAccount = new Map()
    this.stale = null
    for (const [orderId, order] of this.orders) this.add(orderId, order)
  }
}
