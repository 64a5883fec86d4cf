/**
 * A price step of the sim book (book.ts), order by order: expire the orders that are due, then fill the resting ones
 * the price has reached. Kept apart from the book so each part reads whole; the book hands in what a step needs of it
 * (SteppedBook), its ledger staying its own.
 */

import type { Units } from '../../domain/decimal.ts'
import type { CausedReports } from './book-result.ts'
import { isMarketable } from './matching.ts'
import { isOpen, type SimOrder } from './order.ts'
import { SimReason } from './reasons.ts'

/** What a price step needs of the book. */
export interface SteppedBook {
  /** Ends `order` if it is due (book.ts #expireIfDue), its report onto `caused`; true when it did. */
  expireIfDue(order: SimOrder, nowMs: number, caused: CausedReports): boolean
  /** The reference price of `symbol` now; undefined for a symbol the venue stopped trading. */
  reference(symbol: string, nowMs: number): Units | undefined
  /** Whether reduce-only `order` trading `qty` more would open, increase or pass its position. */
  reduceOnlyExceeds(order: SimOrder, qty: Units): boolean
  /** Ends open `order` unfilled for `reason`, its report onto `caused`. */
  expire(order: SimOrder, reason: string, nowMs: number, caused: CausedReports): void
  /** Fills `order`, resting, at its own limit (maker), its reports onto `caused`. */
  make(order: SimOrder, nowMs: number, caused: CausedReports): void
  /** Files an order that ended (order-store.ts settle). */
  settle(order: SimOrder, nowMs: number): void
}

export interface StepRun {
  nowMs: number
  caused: CausedReports
  /** Told of an error on an order (a book bug), the first time only for that order. */
  failed: (message: string) => void
  /** The orders a step failed on so far: a step fails on them again every priceStepMs. */
  stepFailed: WeakSet<SimOrder>
}

/**
 * Steps each of `orders`. An error on one (a bug, such as a resting limit order with no price) skips the rest of that
 * order's step and goes on with the others, rather than throwing out of the venue's clock. The reports it queued before
 * the error stay: each tells of a change already made on the book (a fill booked is a trade the venue holds).
 */
export function stepOrders(book: SteppedBook, orders: readonly SimOrder[], run: StepRun): void {
  for (const order of orders) {
    try {
      stepOrder(book, order, run.nowMs, run.caused)
    } catch (error) {
      if (run.stepFailed.has(order)) continue
      run.stepFailed.add(order)
      run.failed(`price step: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
}

/** An order's part of a price step: expired if due, else filled if the price has reached it. */
function stepOrder(book: SteppedBook, order: SimOrder, nowMs: number, caused: CausedReports): void {
  if (book.expireIfDue(order, nowMs, caused)) return
  // None for a symbol the venue stopped trading (a restart on a config that dropped it): its orders rest until canceled.
  const reference = book.reference(order.symbol, nowMs)
  if (reference !== undefined && isMarketable(order, reference)) {
    // The position may have shrunk since the order was placed: it would now trade past it, so it ends unfilled.
    if (book.reduceOnlyExceeds(order, order.qty - order.cumQty)) book.expire(order, SimReason.reduceOnlyWouldIncrease, nowMs, caused)
    else book.make(order, nowMs, caused)
  }
  if (!isOpen(order)) book.settle(order, nowMs)
}
