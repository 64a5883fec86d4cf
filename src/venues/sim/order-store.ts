/**
 * The orders and trades the sim venue holds, bounded. An order is held while it is open and for
 * `endedOrderRetentionMs` after it ended (filled, canceled, expired, rejected); after that it may be forgotten, oldest
 * ended first, when room is needed for a new one — its client order ids, status and trades with it. While the venue
 * holds `ordersMax` orders none of which may be forgotten yet, a new order is refused (the book answers
 * venue_order_limit), as a real venue throttles.
 *
 * Why forgetting is safe for the gateway: an order the venue no longer knows reads as "never received" to a status
 * query, and the gateway re-sends such an order only while it is younger than its resend window (resendAgeMsMax,
 * 60 s by default). A forgotten order ended more than the retention (5 minutes by default) ago, so it is older than
 * any resend window shorter than that, and is never sent twice. Before this bound the sim held every order forever
 * and refused all orders once it had seen `ordersMax` of them.
 */

import type { VenueTrade } from '../adapter.ts'
import { isOpen, type SimOrder } from './order.ts'
import { GenerationalMap } from '../../domain/generational-map.ts'

export interface SimOrderStoreOptions {
  ordersMax: number
  endedOrderRetentionMs: number
}

/**
 * The queues are linked lists because a write to a list dirties only the links it touches for the collector, where a
 * write to a large array or Map makes every young-generation collection revisit the whole container
 * (scripts/probe-gc-maps.ts); so the store keeps one large Map (client ids), not four. The ended-order queue is linked
 * through the orders themselves (SimOrder.nextEnded): a held ended order costs no cell beyond its own record.
 */
interface TradeLink {
  trade: VenueTrade
  next: TradeLink | null
}

export class SimOrderStore {
  readonly #options: SimOrderStoreOptions
  /**
   * Every client order id of a held order (originals and amend ids) → the order, or the orders when accounts share the
   * id. Client order ids are unique per account, as at real venues (one account cannot know another's ids): two
   * accounts may each hold an order under the same id. An array only then, so the common case costs one Map entry.
   */
  readonly #byClientId = new GenerationalMap<string, SimOrder | SimOrder[]>()
  /** Orders that can still trade, in acceptance order. */
  readonly #open = new Map<string, SimOrder>()
  /** Held orders that ended, in the order they ended (so the head is the first that may be forgotten). */
  #endedHead: SimOrder | null = null
  #endedTail: SimOrder | null = null
  /** Trades in execution order; those of forgotten orders are dropped from the head, and swept from behind it (#forget). */
  #tradesHead: TradeLink | null = null
  #tradesTail: TradeLink | null = null
  /** Links in the trade list: trades of held orders, and of forgotten ones behind an older held trade (#forget). */
  #tradeCount = 0
  /** The list is swept of forgotten orders' trades when it grows past this (#forget). */
  #sweepAt: number
  #heldCount = 0
  forgottenCount = 0

  constructor(options: SimOrderStoreOptions) {
    this.#options = options
    this.#sweepAt = options.ordersMax
  }

  get heldCount(): number {
    return this.#heldCount
  }

  get openCount(): number {
    return this.#open.size
  }

  /** Whether a new order fits, forgetting ended orders past their retention (oldest first) to make room. */
  hasRoom(nowMs: number): boolean {
    while (this.#heldCount >= this.#options.ordersMax && this.#endedHead !== null) {
      const front = this.#endedHead
      if (nowMs - (front.endedAtMs ?? nowMs) < this.#options.endedOrderRetentionMs) break
      this.#endedHead = front.nextEnded
      if (this.#endedHead === null) this.#endedTail = null
      front.nextEnded = null
      this.#forget(front)
    }
    return this.#heldCount < this.#options.ordersMax
  }

  /**
   * Forgets every held ended order now, whatever its retention, as hasRoom forgets one past it (for probes that
   * measure what the held orders cost: scripts/probe-heap-per-order.ts). Returns how many it forgot.
   */
  forgetEnded(): number {
    let forgotten = 0
    while (this.#endedHead !== null) {
      const front = this.#endedHead
      this.#endedHead = front.nextEnded
      front.nextEnded = null
      this.#forget(front)
      forgotten++
    }
    this.#endedTail = null
    return forgotten
  }

  add(order: SimOrder): void {
    this.#heldCount++
    if (order.clientOrderIdChain === null) this.#index(order.clientOrderId, order)
    else for (const clientOrderId of order.clientOrderIdChain) this.#index(clientOrderId, order)
  }

  /** A new client order id for a held order (an amend that renames it). */
  alias(clientOrderId: string, order: SimOrder): void {
    this.#index(clientOrderId, order)
  }

  /** The order `account` holds under `clientOrderId`, if any. */
  byClientId(clientOrderId: string, account: string): SimOrder | undefined {
    const held = this.#byClientId.get(clientOrderId)
    if (held === undefined) return undefined
    if (!Array.isArray(held)) return held.account === account ? held : undefined
    // A loop, not find(): a callback capturing `account` costs a closure and its scope on every call (every place).
    for (const order of held) if (order.account === account) return order
    return undefined
  }

  /** Every held order under `clientOrderId`, one per account at most, in the order they took it. */
  holdersOf(clientOrderId: string): readonly SimOrder[] {
    const held = this.#byClientId.get(clientOrderId)
    if (held === undefined) return []
    return Array.isArray(held) ? held : [held]
  }

  hasClientId(clientOrderId: string, account: string): boolean {
    return this.byClientId(clientOrderId, account) !== undefined
  }

  /**
   * Files `order` as open or ended, whichever it is now. Called once at the end of each operation on it (place,
   * cancel, amend, a price step): an ended order is never operated on again, so it is queued for forgetting once (an
   * order already queued stays where it is).
   */
  settle(order: SimOrder, nowMs: number): void {
    if (isOpen(order)) {
      this.#open.set(order.venueOrderId, order)
      return
    }
    this.#open.delete(order.venueOrderId)
    if (order.endedAtMs !== undefined) return
    order.endedAtMs = nowMs
    if (this.#endedTail === null) this.#endedHead = order
    else this.#endedTail.nextEnded = order
    this.#endedTail = order
  }

  /** Open orders, in acceptance order (a copy: settling while iterating is safe). */
  openOrders(): SimOrder[] {
    return [...this.#open.values()]
  }

  /** Every held order, in creation order (for inspection; walks the open set and the ended queue). */
  heldOrders(): SimOrder[] {
    const held = [...this.#open.values()]
    for (let order = this.#endedHead; order !== null; order = order.nextEnded) held.push(order)
    return held.sort((a, b) => a.sequence - b.sequence)
  }

  addTrade(trade: VenueTrade): void {
    const link: TradeLink = { trade, next: null }
    if (this.#tradesTail === null) this.#tradesHead = link
    else this.#tradesTail.next = link
    this.#tradesTail = link
    this.#tradeCount++
  }

  /** Trades of held orders, in execution order. */
  trades(): VenueTrade[] {
    const trades: VenueTrade[] = []
    for (let link = this.#tradesHead; link !== null; link = link.next) trades.push(link.trade)
    return trades
  }

  /** Files `order` under `clientOrderId`, replacing what its account held there (another account's order stays). */
  // #index and #unindex run for every order placed and forgotten: loops rather than callbacks, which would cost a closure
  // and its scope per call, and no array at all in the common case (one holder).
  #index(clientOrderId: string, order: SimOrder): void {
    const held = this.#byClientId.get(clientOrderId)
    if (held === undefined || (!Array.isArray(held) && held.account === order.account)) {
      this.#byClientId.set(clientOrderId, order)
      return
    }
    const others: SimOrder[] = []
    for (const other of this.holdersOf(clientOrderId)) if (other.account !== order.account) others.push(other)
    this.#byClientId.set(clientOrderId, others.length === 0 ? order : [...others, order])
  }

  #unindex(clientOrderId: string, order: SimOrder): void {
    const held = this.#byClientId.get(clientOrderId)
    if (held === undefined) return
    if (!Array.isArray(held)) {
      if (held === order) this.#byClientId.delete(clientOrderId)
      return
    }
    if (!held.includes(order)) return
    const rest: SimOrder[] = []
    for (const other of held) if (other !== order) rest.push(other)
    if (rest.length === 0) this.#byClientId.delete(clientOrderId)
    else this.#byClientId.set(clientOrderId, rest.length === 1 ? rest[0]! : rest)
  }

  #forget(order: SimOrder): void {
    this.#heldCount--
    if (order.clientOrderIdChain === null) this.#unindex(order.clientOrderId, order)
    else for (const clientOrderId of order.clientOrderIdChain) this.#unindex(clientOrderId, order)
    this.forgottenCount++
    // Trades are dropped from the head while they belong to orders no longer held (an order is found by any of its ids).
    while (this.#tradesHead !== null && !this.#holds(this.#tradesHead.trade)) {
      this.#tradesHead = this.#tradesHead.next
      this.#tradeCount--
    }
    if (this.#tradesHead === null) this.#tradesTail = null
    // A trade of an order still open (a partial fill of a GTC order resting for days) stops that at the head, and every
    // trade after it stayed: swept once the list has doubled since the last sweep, so its cost per trade is constant.
    if (this.#tradeCount > this.#sweepAt) this.#sweep()
  }

  /** Unlinks every trade of an order no longer held, keeping execution order. */
  #sweep(): void {
    let previous: TradeLink | null = null
    for (let link = this.#tradesHead; link !== null; link = link.next) {
      if (this.#holds(link.trade)) {
        previous = link
        continue
      }
      if (previous === null) this.#tradesHead = link.next
      else previous.next = link.next
      this.#tradeCount--
    }
    this.#tradesTail = previous
    this.#sweepAt = Math.max(2 * this.#tradeCount, this.#options.ordersMax)
  }

  #holds(trade: VenueTrade): boolean {
    return this.byClientId(trade.clientOrderId, trade.account)?.venueOrderId === trade.venueOrderId
  }
}
