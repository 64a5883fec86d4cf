/**
 * Guard 5 — reservation: the account must have the cash (buy: qty × worst price + taker-fee allowance) or the
 * position (sell: qty) available, i.e. not already held by other open orders.
 *
 * Computed from the order as it will be sent (sent-order.ts): the quantity rounded down to the lot, the limit price
 * rounded to the tick. §5 puts reservation (5) before capability/rounding (6); the rounding is plain arithmetic on
 * the body and the instrument, so this guard computes it itself and guard 6 then checks the rounded order fits the
 * instrument — the amount checked here is exactly what the kernel holds, and exactly what the order can cost. A
 * market order's worst price is the reference price pushed to the upper edge of the instrument's price band.
 */

import { formatDecimal, type Units } from '../../domain/decimal.ts'
import type { Instrument } from '../../domain/instruments.ts'
import type { KernelParams } from '../../domain/kernel-config.ts'
import type { PlaceBody } from '../../domain/orders.ts'
import { isRecordableUnits, RECORD_UNITS_MAX } from '../../domain/recordable-amounts.ts'
import { reservationFor, type ReservationQuote } from '../reservations.ts'
import { availableBalance, type KernelState } from '../state.ts'
import { failed, passed, type GuardResult } from './guard-result.ts'
import { marketWorstPrice, sentPrice, sentQty } from './sent-order.ts'

/** Positional (no argument object per order): `referencePrice` is data health's, which a market order is priced from. */
export function reservationGuard(state: KernelState, body: PlaceBody, instrument: Instrument, params: KernelParams, referencePrice: Units): GuardResult<ReservationQuote> {
  // The price the order is priced at: its limit as sent, or a market order's worst price.
  const worstPrice = body.price === undefined ? marketWorstPrice(referencePrice, instrument) : sentPrice(body.price, body.side, instrument)
  const qty = sentQty(body.qty, instrument)
  const quote = reservationFor({ side: body.side, qty, worstPrice, takerFeeBps: params.takerFeeBps, instrument })
  const available = availableBalance(state, body.account, quote.asset)
  const inputs = {
    side: body.side,
    reduceOnly: body.reduce_only,
    asset: quote.asset,
    amount: formatDecimal(quote.amount),
    available: formatDecimal(available),
    worstPrice: formatDecimal(worstPrice),
    takerFeeBps: params.takerFeeBps,
  }
  // An amount no record can hold is no order the kernel can take (the acceptance could not be logged: it was a 500).
  if (!isRecordableUnits(quote.amount)) return failed('ORDER_NOTIONAL_LIMIT', { ...inputs, recordableMax: formatDecimal(RECORD_UNITS_MAX) })
  // Spot accounts hold no short positions, so a reduce-only buy can only open one.
  if (body.reduce_only && body.side === 'buy') return failed('REDUCE_ONLY_WOULD_INCREASE', inputs)
  if (available < quote.amount) return failed(body.side === 'buy' ? 'INSUFFICIENT_FUNDS' : 'INSUFFICIENT_POSITION', inputs)
  return passed(quote, inputs)
}
