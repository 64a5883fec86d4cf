/**
 * Guard 4 — data health. A missing, stale or jumping reference price blocks new orders (it never blocks cancels,
 * which do not come through intake). A limit price outside the instrument's band around the reference price is a
 * fat-finger reject. Then, for an order that would take from the book (`order`), the book rules (book-check.ts): a thin
 * touch is DATA_THIN_BOOK, too large a share of it IMPACT_TOO_LARGE — with the limits of the recorded config (the
 * instrument's touchQtyMin, the params' spreadBpsMax and touchShareBpsMax). With every limit absent they add nothing,
 * not even an input, so decision records stay as they were before the limits existed.
 */

import { formatDecimal, smallBigInt, type Units } from '../../domain/decimal.ts'
import type { Instrument } from '../../domain/instruments.ts'
import type { KernelParams } from '../../domain/kernel-config.ts'
import type { MarketSnapshot } from '../../domain/market.ts'
import type { ReasonCode } from '../../domain/reasons.ts'
import { bookCheck, type BookLimits, type BookOrder } from './book-check.ts'
import { failed, passed, type GuardResult } from './guard-result.ts'
import { referencePriceUsable } from './sent-order.ts'

/**
 * `price` is the limit price to band-check (a new order's, or an amend's new one); null checks data health only.
 * `order`: the order as it would be sent, for the book rules; absent or null for what never faces them (a flatten's
 * closes, an amend that only cuts quantity).
 */
export function dataHealthGuard(input: {
  price: Units | null
  order?: BookOrder | null
  instrument: Instrument
  params: KernelParams
  market: MarketSnapshot | null
  nowMs: number
}): GuardResult<Units> {
  const { market, params, instrument } = input
  if (market === null) return failed('DATA_MISSING', { referencePrice: null })
  const ageMs = input.nowMs - market.observedAtMs
  const inputs = {
    referencePrice: formatDecimal(market.referencePrice),
    previousPrice: market.previousPrice === null ? null : formatDecimal(market.previousPrice),
    ageMs,
    referenceStaleMs: params.referenceStaleMs,
    referenceJumpBps: params.referenceJumpBps,
    priceBandBps: instrument.priceBandBps,
    price: input.price === null ? null : formatDecimal(input.price),
  }
  const reason = marketDataReason(market, input.nowMs, input.price, instrument, params)
  if (reason !== null) return failed(reason, inputs)
  if (input.order === undefined || input.order === null) return passed(market.referencePrice, inputs)
  // With every limit off the book check adds nothing (no reason, no inputs): not asked, nothing is built for it.
  if (bookLimitsOff(instrument, params)) return passed(market.referencePrice, inputs)
  const book = bookCheck(input.order, { market, limits: bookLimitsOf(instrument, params) })
  const all = { ...inputs, ...book.inputs }
  return book.reason === null ? passed(market.referencePrice, all) : failed(book.reason, all)
}

/**
 * The guard's verdict on the reference price and the band alone, in its order (missing or unusable, stale, jump,
 * band), before the book rules: null when they pass. The send's recheck (send.ts) reads only the reason, so it asks
 * this and builds no inputs, result or argument object per send.
 */
export function marketDataReason(market: MarketSnapshot | null, nowMs: number, price: Units | null, instrument: Instrument, params: KernelParams): ReasonCode | null {
  // A price no order priced from it could be recorded at is no price (sent-order.ts referencePriceUsable).
  if (market === null || !referencePriceUsable(market.referencePrice, instrument)) return 'DATA_MISSING'
  const ageMs = nowMs - market.observedAtMs
  if (ageMs > params.referenceStaleMs || ageMs < -params.referenceStaleMs) return 'DATA_STALE'
  const previous = market.previousPrice
  if (previous !== null && previous > 0n && exceedsBps(market.referencePrice, previous, params.referenceJumpBps)) return 'DATA_JUMP'
  if (price !== null && exceedsBps(price, market.referencePrice, instrument.priceBandBps)) return 'PRICE_BAND'
  return null
}

/** The book rules' verdict alone (book-check.ts), null when they pass; every limit off asks nothing of the order. */
export function bookReason(order: BookOrder, market: MarketSnapshot, instrument: Instrument, params: KernelParams): ReasonCode | null {
  return bookLimitsOff(instrument, params) ? null : bookCheck(order, { market, limits: bookLimitsOf(instrument, params) }).reason
}

/** The book limits of the recorded config: absent is off. */
export function bookLimitsOf(instrument: Instrument, params: KernelParams): BookLimits {
  return { touchQtyMin: instrument.touchQtyMin ?? null, spreadBpsMax: params.spreadBpsMax ?? null, touchShareBpsMax: params.touchShareBpsMax ?? null }
}

/** Whether every book limit of the recorded config is absent (bookLimitsOn(bookLimitsOf(…)) false), allocating nothing. */
export function bookLimitsOff(instrument: Instrument, params: KernelParams): boolean {
  return (instrument.touchQtyMin ?? null) === null && (params.spreadBpsMax ?? null) === null && (params.touchShareBpsMax ?? null) === null
}

/** |value − reference| > reference × bps / 10 000, in exact integer arithmetic. */
export function exceedsBps(value: Units, reference: Units, bps: number): boolean {
  // No distance (a price at the reference, an unchanged reference) is never past a band: no products made for it.
  if (value === reference && reference >= 0n && bps >= 0) return false
  const distance = value > reference ? value - reference : reference - value
  return distance * 10_000n > reference * smallBigInt(bps)
}
