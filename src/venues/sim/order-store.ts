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
 * A link of the ended-order queue. The queues are linked lists because a write to a list dirties only the links it
 * touches for the collector, where a write to a large array or Map makes every young-generation collection revisit
 * the whole container (scripts/probe-gc-maps.ts); so the store keeps one large Map (client ids), not four.
 */
interface EndedLink {
  order: SimOrder
  endedAtMs: number
  next: EndedLink | null
}

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
  #endedHead: EndedLink | null = null
  #endedTail: EndedLink | null = null
  /** Trades in execution order; those of forgotten orders are dropped from the head. */
  #tradesHead: TradeLink | null = null
  #tradesTail: TradeLink | null = null
  #heldCount = 0
  forgottenCount = 0

  constructor(options: SimOrderStoreOptions) {
    this.#options = options
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
      if (nowMs - front.endedAtMs < this.#options.endedOrderRetentionMs) break
      this.#endedHead = front.next
      if (this.#endedHead === null) this.#endedTail = null
      this.#forget(front.order)
    }
    return this.#heldCount < this.#options.ordersMax
  }

  add(order: SimOrder): void {
    this.#heldCount++
    for (const clientOrderId of order.clientOrderIds) this.#index(clientOrderId, order)
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
    return held.find((order) => order.account === account)
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
   * cancel, amend, a price step): an ended order is never operated on again, so it is queued for forgetting once.
   */
  settle(order: SimOrder, nowMs: number): void {
    if (isOpen(order)) {
      this.#open.set(order.venueOrderId, order)
      return
    }
    this.#open.delete(order.venueOrderId)
    const link: EndedLink = { order, endedAtMs: nowMs, next: null }
    if (this.#endedTail === null) this.#endedHead = link
    else this.#endedTail.next = link
    this.#endedTail = link
  }

  /** Open orders, in acceptance order (a copy: settling while iterating is safe). */
  openOrders(): SimOrder[] {
    return [...this.#open.values()]
  }

  /** Every held order, in creation order (for inspection; walks the open set and the ended queue). */
  heldOrders(): SimOrder[] {
    const held = [...this.#open.values()]
    for (let link = this.#endedHead; link !== null; link = link.next) held.push(link.order)
    return held.sort((a, b) => a.sequence - b.sequence)
  }

  addTrade(trade: VenueTrade): void {
    const link: TradeLink = { trade, next: null }
    if (this.#tradesTail === null) this.#tradesHead = link
    else this.#tradesTail.next = link
    this.#tradesTail = link
  }

  /** Trades of held orders, in execution order. */
  trades(): VenueTrade[] {
    const trades: VenueTrade[] = []
    for (let link = this.#tradesHead; link !== null; link = link.next) trades.push(link.trade)
    return trades
  }

  /** Files `order` under `clientOrderId`, replacing what its account held there (another account's order stays). */
  #index(clientOrderId: string, order: SimOrder): void {
    const others = this.holdersOf(clientOrderId).filter((held) => held.account !== order.account)
    this.#byClientId.set(clientOrderId, others.length === 0 ? order : [...others, order])
  }

  #unindex(clientOrderId: string, order: SimOrder): void {
    const held = this.holdersOf(clientOrderId)
    if (!held.includes(order)) return
    const rest = held.filter((other) => other !== order)
    if (rest.length === 0) this.#byClientId.delete(clientOrderId)
    else this.#byClientId.set(clientOrderId, rest.length === 1 ? rest[0]! : rest)
  }

  #forget(order: SimOrder): void {
    this.#heldCount--
    for (const clientOrderId of order.clientOrderIds) this.#unindex(clientOrderId, order)
    this.forgottenCount++
    // Trades are dropped from the head while they belong to orders no longer held (an order is found by any of its ids).
    while (this.#tradesHead !== null && !this.#holds(this.#tradesHead.trade)) this.#tradesHead = this.#tradesHead.next
    if (this.#tradesHead === null) this.#tradesTail = null
  }

  #holds(trade: VenueTrade): boolean {
    return this.byClientId(trade.clientOrderId, trade.account)?.venueOrderId === trade.venueOrderId
  }
}
