/**
 * Guard 4 — data health. A missing, stale or jumping reference price blocks new orders (it never blocks cancels,
 * which do not come through intake). A limit price outside the instrument's band around the reference price is a
 * fat-finger reject.
 */

import { formatDecimal, type Units } from '../../domain/decimal.ts'
import type { Instrument } from '../../domain/instruments.ts'
import type { KernelParams } from '../../domain/kernel-config.ts'
import type { MarketSnapshot } from '../../domain/market.ts'
import { failed, passed, type GuardResult } from './guard-result.ts'

/** `price` is the limit price to band-check (a new order's, or an amend's new one); null checks data health only. */
export function dataHealthGuard(input: {
  price: Units | null
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
  if (market.referencePrice <= 0n) return failed('DATA_MISSING', inputs)
  if (ageMs > params.referenceStaleMs || ageMs < -params.referenceStaleMs) return failed('DATA_STALE', inputs)
  const previous = market.previousPrice
  if (previous !== null && previous > 0n && exceedsBps(market.referencePrice, previous, params.referenceJumpBps)) {
    return failed('DATA_JUMP', inputs)
  }
  const price = input.price
  if (price !== null && exceedsBps(price, market.referencePrice, instrument.priceBandBps)) return failed('PRICE_BAND', inputs)
  return passed(market.referencePrice, inputs)
}

/** |value − reference| > reference × bps / 10 000, in exact integer arithmetic. */
export function exceedsBps(value: Units, reference: Units, bps: number): boolean {
  const distance = value > reference ? value - reference : reference - value
  return distance * 10_000n > reference * BigInt(bps)
}
