/**
 * The kernel's orders in acceptance order, kept beside `state.orders` for `GET /v1/orders`: every order once in one
 * list and once in its account's, numbered by a counter in the order the Map holds them. A page then
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
 * An order (from the Map, by id) is found in the list without a second Map by its acceptance time: the clock the kernel
 * decides by does not go back within a process (src/runtime/clock.ts), so acceptedAtMs does not decrease along the
 * list except where a restart or a failover met an earlier clock. Each such place starts a new run, and an order is
 * found by a binary search per run (there is one, or a few) and a scan of the orders accepted in the same millisecond.
 * A Map from id to entry cost as much again as the kernel's own insert and delete per order (~1.5 µs each at a
 * million orders: GenerationalMap lookups across its generations), on the thread this is meant to spare.
 *
 * Memory: per order held, one entry and a slot in two lists; per retired order nothing once its chunk is compacted
 * (seq-list.ts: fewer dead entries than live ones).
 */

import { GenerationalMap, type GenerationalMapObserver } from '../../domain/generational-map.ts'
import type { Order } from '../../domain/orders.ts'
import { SeqList, type SeqWalk } from './seq-list.ts'

export interface OrderEntry {
  /** Position in the Map's order: increasing, never reused within this index; what a list cursor carries, sealed (cursor.ts). */
  readonly seq: number
  /** The run (see the header) and the acceptance time: (run, atMs) does not decrease along the list. */
  readonly run: number
  readonly atMs: number
  order: Order
  live: boolean
}

export class OrderListIndex implements GenerationalMapObserver<string, Order> {
  private readonly orders: GenerationalMap<string, Order>
  private all = new SeqList<OrderEntry>()
  private byAccount = new Map<string, SeqList<OrderEntry>>()
  private nextSeq = 1
  /** Counts the builds (the first, then one per rebuild): a seq means a position only within its generation. */
  private generationCount = 0
  private run = 0
  private runLastAtMs = Number.NEGATIVE_INFINITY
  /** The runs the list may still hold entries of, oldest first. */
  private runs: number[] = [0]
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

  /**
   * The build the seqs belong to. A rebuild (after the index lost track of the Map) numbers every order again, so a
   * seq from an earlier generation names no position in this one (src/http/order-list/cursor.ts).
   */
  get generation(): number {
    this.refresh()
    return this.generationCount
  }

  /** Dead entries not yet compacted away, in the global list (bounded by its live ones). */
  get deadHeld(): number {
    return this.all.deadHeld
  }

  /** The entry of `orderId`, or undefined for an order the kernel does not hold. */
  entryOf(orderId: string): OrderEntry | undefined {
    this.refresh()
    const order = this.orders.get(orderId)
    if (order === undefined) return undefined
    const entry = this.find(order)
    if (entry !== null) return entry
    // Held by the Map and not here: the index lost track. Rebuilt, it holds every order of the Map.
    this.markStale(new Error(`order ${orderId} is held but not indexed`))
    this.refresh()
    return this.find(order) ?? undefined
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

  added(_orderId: string, order: Order): void {
    try {
      this.add(order)
    } catch (error) {
      this.markStale(error)
    }
  }

  replaced(orderId: string, order: Order, previous: Order): void {
    try {
      const entry = this.find(previous)
      // An order's account and acceptance time never change; if they did, the entry would be misplaced.
      if (entry === null || order.accountId !== previous.accountId || order.acceptedAtMs !== entry.atMs) throw new Error(`order ${orderId} was set again with another account or acceptance time`)
      entry.order = order
    } catch (error) {
      this.markStale(error)
    }
  }

  deleted(orderId: string, order: Order): void {
    try {
      const entry = this.find(order)
      if (entry === null) throw new Error(`order ${orderId} left the Map without an entry in the index`)
      entry.live = false
      this.all.noteDead(entry)
      const account = this.byAccount.get(order.accountId)
      if (account === undefined) throw new Error(`order ${orderId} has no list for its account ${order.accountId}`)
      account.noteDead(entry)
      if (account.size === 0) this.byAccount.delete(order.accountId)
    } catch (error) {
      this.markStale(error)
    }
  }

  cleared(): void {
    this.rebuild()
  }

  private add(order: Order): void {
    const atMs = order.acceptedAtMs
    if (atMs < this.runLastAtMs) this.runs.push(++this.run)
    this.runLastAtMs = atMs
    const entry: OrderEntry = { seq: this.nextSeq++, run: this.run, atMs, order, live: true }
    this.all.append(entry)
    let account = this.byAccount.get(order.accountId)
    if (account === undefined) this.byAccount.set(order.accountId, (account = new SeqList()))
    account.append(entry)
  }

  /** The live entry holding `order`: a binary search per run, then the orders accepted in the same millisecond. */
  private find(order: Order): OrderEntry | null {
    const oldest = this.all.first()
    const runs = this.runs
    while (oldest !== null && runs.length > 1 && (runs[0] as number) < oldest.run) runs.shift()
    const atMs = order.acceptedAtMs
    for (const run of runs) {
      const walk = this.all.walkFrom((entry) => entry.run < run || (entry.run === run && entry.atMs < atMs))
      for (let entry = walk.next(); entry !== null && entry.run === run && entry.atMs === atMs; entry = walk.next()) {
        if (entry.order === order) return entry
      }
    }
    return null
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
    this.all = new SeqList()
    this.byAccount = new Map()
    this.run = 0
    this.runLastAtMs = Number.NEGATIVE_INFINITY
    this.runs = [0]
    this.stale = null
    this.generationCount++
    for (const order of this.orders.values()) this.add(order)
  }
}
