/**
 * The book part of guard 4 (§5: thin book, 板薄) and the impact bound (§15 check 4, guards data/impact). An aggressive
 * new order — a market order, or a limit that would cross the touch — is refused when the side it would take shows
 * too little, and when it would take too large a share of what is shown:
 *
 *   - DATA_THIN_BOOK: no usable touch (none shown, a price ≤ 0, a crossed book), visible size at the side it takes
 *     below `touchQtyMin`, or a spread wider than `spreadBpsMax` of the reference price;
 *   - IMPACT_TOO_LARGE: quantity above `touchShareBpsMax` of the visible size at that side.
 *
 * Passive orders pass (they add to the book, they do not take from it), and so do reduce-only orders: a close must
 * never be held back by the book it is trying to leave. Cancels do not come through intake.
 *
 * Every limit null turns the check off: it then runs no rule and adds no input, so decision records stay as they were
 * before it existed. Pure: the touch comes with the market fact in the command (src/domain/market.ts).
 *
 * Called by data health (guard-data-health.ts) with the limits of the recorded config (kernel.configured): at a place,
 * an amend that reprices or adds, a resend, and the recheck at the send (I-100 check 4).
 */

import { formatDecimal, type Units } from '../../domain/decimal.ts'
import type { BookTouch, MarketSnapshot } from '../../domain/market.ts'
import type { ReasonCode } from '../../domain/reasons.ts'
import type { GuardInputs } from './guard-result.ts'

export interface BookLimits {
  /** Visible size (base units) at the side an aggressive order takes below which the book is thin; null: off. */
  touchQtyMin: Units | null
  /** A spread (ask − bid) wider than this many bps of the reference price is a thin book; null: off. */
  spreadBpsMax: number | null
  /** An aggressive order may take at most this many bps of the visible size at the touch; null: off. */
  touchShareBpsMax: number | null
}

export const BOOK_LIMITS_OFF: Readonly<BookLimits> = Object.freeze({ touchQtyMin: null, spreadBpsMax: null, touchShareBpsMax: null })

export function bookLimitsOn(limits: BookLimits): boolean {
  return limits.touchQtyMin !== null || limits.spreadBpsMax !== null || limits.touchShareBpsMax !== null
}

export interface BookOrder {
  side: 'buy' | 'sell'
  orderType: 'limit' | 'market'
  /** The limit price as it will be sent; null for a market order. */
  price: Units | null
  qty: Units
  reduceOnly: boolean
}

export interface BookVerdict {
  /** Null: the order passes. */
  reason: ReasonCode | null
  /** What the check looked at, for the decision record; empty with every limit off. */
  inputs: GuardInputs
}

/** `market` is the one data health passed (a positive reference price). */
export function bookCheck(order: BookOrder, input: { market: MarketSnapshot; limits: BookLimits }): BookVerdict {
  const { market, limits } = input
  if (!bookLimitsOn(limits)) return { reason: null, inputs: {} }
  const touch = market.touch
  const buy = order.side === 'buy'
  const touchPrice = touch === undefined ? null : buy ? touch.askPrice : touch.bidPrice
  const touchQty = touch === undefined ? null : buy ? touch.askQty : touch.bidQty
  const spread = touch === undefined ? null : touch.askPrice - touch.bidPrice
  const aggressive = isAggressive(order, touchPrice ?? market.referencePrice)
  const inputs: GuardInputs = {
    aggressive,
    touchPrice: touchPrice === null ? null : formatDecimal(touchPrice),
    touchQty: touchQty === null ? null : formatDecimal(touchQty),
    spread: spread === null ? null : formatDecimal(spread),
    qty: formatDecimal(order.qty),
    touchQtyMin: limits.touchQtyMin === null ? null : formatDecimal(limits.touchQtyMin),
    spreadBpsMax: limits.spreadBpsMax,
    touchShareBpsMax: limits.touchShareBpsMax,
  }
  if (order.reduceOnly || !aggressive) return { reason: null, inputs }
  if (touch === undefined || touchQty === null || spread === null || !usable(touch)) return { reason: 'DATA_THIN_BOOK', inputs }
  return { reason: aggressiveReason(order.qty, { touchQty, spread, referencePrice: market.referencePrice, limits }), inputs }
}

/** A market order always takes; a limit takes when it reaches the touch (or the reference price with no touch shown). */
function isAggressive(order: BookOrder, takePrice: Units): boolean {
  if (order.orderType === 'market' || order.price === null) return true
  return order.side === 'buy' ? order.price >= takePrice : order.price <= takePrice
}

/** A touch a price can be judged against: both prices positive and the book not crossed; sizes not negative. */
function usable(touch: BookTouch): boolean {
  return touch.bidPrice > 0n && touch.askPrice >= touch.bidPrice && touch.bidQty >= 0n && touch.askQty >= 0n
}

/** The thin-book rules first (the book itself), then the order's share of it; exact integer arithmetic throughout. */
function aggressiveReason(qty: Units, input: { touchQty: Units; spread: Units; referencePrice: Units; limits: BookLimits }): ReasonCode | null {
  const { touchQty, spread, referencePrice, limits } = input
  if (limits.touchQtyMin !== null && touchQty < limits.touchQtyMin) return 'DATA_THIN_BOOK'
  if (limits.spreadBpsMax !== null && spread * 10_000n > referencePrice * BigInt(limits.spreadBpsMax)) return 'DATA_THIN_BOOK'
  if (limits.touchShareBpsMax !== null && qty * 10_000n > touchQty * BigInt(limits.touchShareBpsMax)) return 'IMPACT_TOO_LARGE'
  return null
}
