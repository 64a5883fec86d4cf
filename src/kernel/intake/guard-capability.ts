/**
 * Guard 6 — capability and rounding: the instrument must support the order type, time in force, post-only and
 * reduce-only; then the price is rounded to the tick (a buy down, a sell up: never more aggressive than asked) and
 * the quantity down to the lot (the record keeps what was asked beside what rounding made of it: requestedQty,
 * requestedPrice), and the rounded order must meet min quantity, max quantity and min notional. The
 * rounding is sent-order.ts's, the one guards 2, 4 and 5 already priced the order with. The rules themselves
 * (unsupportedReason, sizeReason) are read again at the send (send.ts instrumentRuleRefusing): a start may have
 * recorded changed instruments since the order was accepted.
 */

import { formatDecimal, mulUnits, type Units } from '../../domain/decimal.ts'
import type { Instrument } from '../../domain/instruments.ts'
import type { Order, PlaceBody } from '../../domain/orders.ts'
import type { ReasonCode } from '../../domain/reasons.ts'
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
  const unsupported = unsupportedReason({ type: body.type, tif: body.tif, postOnly: body.post_only, reduceOnly: body.reduce_only }, instrument)
  if (unsupported !== null) return failed(unsupported, inputs)
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
  // What was asked, where rounding moved it: the body is not in the log (only its digest), so without these the record
  // showed the rounded order as if it had been asked for — a qty of 0.00005 refused QTY_BELOW_MIN read "qty 0". Only
  // then: an order on the tick and lot records what it always did.
  if (qty !== body.qty) rounded.requestedQty = formatDecimal(body.qty)
  if (body.price !== undefined && price !== body.price) rounded.requestedPrice = formatDecimal(body.price)
  const sized = { qty, price, notional }
  const size = sizeReason(sized, instrument)
  return size === null ? passed(sized, rounded) : failed(size, rounded)
}

/** What of the order the instrument does not take — its type, time in force, post-only, reduce-only — or null. */
export function unsupportedReason(order: Pick<Order, 'type' | 'tif' | 'postOnly' | 'reduceOnly'>, instrument: Instrument): ReasonCode | null {
  if (!instrument.orderTypes.includes(order.type)) return 'ORDER_TYPE_UNSUPPORTED'
  if (!instrument.timeInForce.includes(order.tif)) return 'TIF_UNSUPPORTED'
  const postOnlyImpossible = order.type === 'market' || order.tif === 'IOC' || order.tif === 'FOK'
  if (order.postOnly && (!instrument.postOnly || postOnlyImpossible)) return 'POST_ONLY_UNSUPPORTED'
  if (order.reduceOnly && !instrument.reduceOnly) return 'REDUCE_ONLY_UNSUPPORTED'
  return null
}

/**
 * Whether the rounded order fits the instrument's sizes — min quantity (a price rounded to 0 is below it too), max
 * quantity, min notional (qty × its limit, or a market order's reference price, rounded down) — or the first it misses.
 */
export function sizeReason(order: RoundedOrder & { notional: Units }, instrument: Instrument): ReasonCode | null {
  if (order.qty < instrument.minQty || order.price === 0n) return 'QTY_BELOW_MIN'
  if (order.qty > instrument.maxQty) return 'QTY_ABOVE_MAX'
  if (order.notional < instrument.minNotional) return 'NOTIONAL_BELOW_MIN'
  return null
}
