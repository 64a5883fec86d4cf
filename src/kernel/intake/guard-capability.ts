/**
 * Guard 6 — capability and rounding: the instrument must support the order type, time in force, post-only and
 * reduce-only; then the price is rounded to the tick (a buy down, a sell up: never more aggressive than asked) and
 * the quantity down to the lot, and the rounded order must meet min quantity, max quantity and min notional. The
 * rounding is sent-order.ts's, the one guards 2, 4 and 5 already priced the order with.
 */

import { formatDecimal, mulUnits, type Units } from '../../domain/decimal.ts'
import type { Instrument } from '../../domain/instruments.ts'
import type { PlaceBody } from '../../domain/orders.ts'
import { failed, passed, type GuardInputs, type GuardResult } from './guard-result.ts'
import { sentPrice, sentQty } from './sent-order.ts'

export interface RoundedOrder {
  qty: Units
  price: Units | null
}

/** Positional (no argument object per order): `referencePrice` prices a market order's notional. */
export function capabilityGuard(body: PlaceBody, instrument: Instrument, referencePrice: Units): GuardResult<RoundedOrder> {
  const inputs: GuardInputs = {
    orderType: body.type,
    tif: body.tif,
    postOnly: body.post_only,
    reduceOnly: body.reduce_only,
    tickSize: formatDecimal(instrument.tickSize),
    lotSize: formatDecimal(instrument.lotSize),
  }
  if (!instrument.orderTypes.includes(body.type)) return failed('ORDER_TYPE_UNSUPPORTED', inputs)
  if (!instrument.timeInForce.includes(body.tif)) return failed('TIF_UNSUPPORTED', inputs)
  const postOnlyImpossible = body.type === 'market' || body.tif === 'IOC' || body.tif === 'FOK'
  if (body.post_only && (!instrument.postOnly || postOnlyImpossible)) return failed('POST_ONLY_UNSUPPORTED', inputs)
  if (body.reduce_only && !instrument.reduceOnly) return failed('REDUCE_ONLY_UNSUPPORTED', inputs)
  const price = body.price === undefined ? null : sentPrice(body.price, body.side, instrument)
  const qty = sentQty(body.qty, instrument)
  const notional = mulUnits(qty, price ?? referencePrice, 'down')
  // The rounded order's members join the inputs in place (the record's one object).
  const rounded = inputs
  rounded.price = price === null ? null : formatDecimal(price)
  rounded.qty = formatDecimal(qty)
  rounded.notional = formatDecimal(notional)
  rounded.minQty = formatDecimal(instrument.minQty)
  rounded.maxQty = formatDecimal(instrument.maxQty)
  rounded.minNotional = formatDecimal(instrument.minNotional)
  if (qty < instrument.minQty || price === 0n) return failed('QTY_BELOW_MIN', rounded)
  if (qty > instrument.maxQty) return failed('QTY_ABOVE_MAX', rounded)
  if (notional < instrument.minNotional) return failed('NOTIONAL_BELOW_MIN', rounded)
  return passed({ qty, price }, rounded)
}
