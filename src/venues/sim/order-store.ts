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

export interface SimOrderStoreOptions {
  ordersMax: number
  endedOrderRetentionMs: number
}

interface Ended {
  order: SimOrder
  endedAtMs: number
}

export class SimOrderStore {
  readonly #options: SimOrderStoreOptions
  /** venueOrderId → order, in creation order. */
  readonly #orders = new Map<string, SimOrder>()
  /** Every client order id of a held order (originals and amend ids) → the order. */
  readonly #byClientId = new Map<string, SimOrder>()
  /** Orders that can still trade, in acceptance order. */
  readonly #open = new Map<string, SimOrder>()
  /** Held orders that ended, in the order they ended (so the front is the first that may be forgotten). */
  #ended: Ended[] = []
  #endedHead = 0
  /** Trades in execution order; those of forgotten orders are dropped from the front. */
  #trades: VenueTrade[] = []
  #tradesHead = 0
  forgottenCount = 0

  constructor(options: SimOrderStoreOptions) {
    this.#options = options
  }

  get heldCount(): number {
    return this.#orders.size
  }

  get openCount(): number {
    return this.#open.size
  }

  /** Whether a new order fits, forgetting ended orders past their retention (oldest first) to make room. */
  hasRoom(nowMs: number): boolean {
    while (this.#orders.size >= this.#options.ordersMax && this.#endedHead < this.#ended.length) {
      const front = this.#ended[this.#endedHead] as Ended
      if (nowMs - front.endedAtMs < this.#options.endedOrderRetentionMs) break
      this.#endedHead++
      this.#forget(front.order)
    }
    this.#compact()
    return this.#orders.size < this.#options.ordersMax
  }

  add(order: SimOrder): void {
    this.#orders.set(order.venueOrderId, order)
    for (const clientOrderId of order.clientOrderIds) this.#byClientId.set(clientOrderId, order)
  }

  /** A new client order id for a held order (an amend that renames it). */
  alias(clientOrderId: string, order: SimOrder): void {
    this.#byClientId.set(clientOrderId, order)
  }

  byClientId(clientOrderId: string): SimOrder | undefined {
    return this.#byClientId.get(clientOrderId)
  }

  hasClientId(clientOrderId: string): boolean {
    return this.#byClientId.has(clientOrderId)
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
    this.#ended.push({ order, endedAtMs: nowMs })
  }

  /** Open orders, in acceptance order (a copy: settling while iterating is safe). */
  openOrders(): SimOrder[] {
    return [...this.#open.values()]
  }

  heldOrders(): IterableIterator<SimOrder> {
    return this.#orders.values()
  }

  addTrade(trade: VenueTrade): void {
    this.#trades.push(trade)
  }

  trades(): VenueTrade[] {
    return this.#trades.slice(this.#tradesHead)
  }

  #forget(order: SimOrder): void {
    this.#orders.delete(order.venueOrderId)
    for (const clientOrderId of order.clientOrderIds) {
      if (this.#byClientId.get(clientOrderId) === order) this.#byClientId.delete(clientOrderId)
    }
    this.forgottenCount++
    while (this.#tradesHead < this.#trades.length && !this.#orders.has((this.#trades[this.#tradesHead] as VenueTrade).venueOrderId)) this.#tradesHead++
  }

  /** Drops the consumed fronts of the queues once they are half of the array, so memory stays bounded too. */
  #compact(): void {
    if (this.#endedHead > 1024 && this.#endedHead * 2 > this.#ended.length) {
      this.#ended = this.#ended.slice(this.#endedHead)
      this.#endedHead = 0
    }
    if (this.#tradesHead > 1024 && this.#tradesHead * 2 > this.#trades.length) {
      this.#trades = this.#trades.slice(this.#tradesHead)
      this.#tradesHead = 0
    }
  }
}
