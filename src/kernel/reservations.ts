/**
 * Reservation arithmetic. A buy holds quote cash for qty × worst price plus a taker-fee allowance; a sell holds the
 * base position. What is held shrinks in proportion to the filled quantity and is released in full at a terminal
 * state. Rounding always favours holding more, never less.
 */

import { assert } from '../domain/assert.ts'
import { mulUnits, type Units } from '../domain/decimal.ts'
import type { Side } from '../domain/orders.ts'

const BPS_PER_ONE = 10_000n

export function feeAllowance(notional: Units, takerFeeBps: number): Units {
  return ceilDiv(notional * BigInt(takerFeeBps), BPS_PER_ONE)
}

export interface ReservationQuote {
  asset: string
  amount: Units
  /** For the decision record: the notional the reservation was computed from (quote units). */
  notional: Units
}

/** What an order must hold: quote cash for a buy (with fees), base quantity for a sell. */
export function reservationFor(options: {
  side: Side
  qty: Units
  worstPrice: Units
  takerFeeBps: number
  baseAsset: string
  quoteAsset: string
}): ReservationQuote {
  const notional = mulUnits(options.qty, options.worstPrice, 'up')
  if (options.side === 'sell') return { asset: options.baseAsset, amount: options.qty, notional }
  return { asset: options.quoteAsset, amount: notional + feeAllowance(notional, options.takerFeeBps), notional }
}

/** What stays held after `cumQty` of `qty` has filled: the unfilled share of the total, rounded up. */
export function remainingAfterFill(total: Units, qty: Units, cumQty: Units): Units {
  assert(qty > 0n, 'order quantity must be positive')
  assert(cumQty >= 0n && cumQty <= qty, `cumQty ${cumQty} must be within 0..${qty}`)
  return ceilDiv(total * (qty - cumQty), qty)
}

export function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  assert(denominator > 0n && numerator >= 0n, 'ceilDiv takes a non-negative numerator and a positive denominator')
  return (numerator + denominator - 1n) / denominator
}
