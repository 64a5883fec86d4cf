/**
 * How an order looks through the API: plain snake_case names that match the request body (`account`, `qty`, `tif`),
 * amounts as decimal strings, times as epoch milliseconds.
 */

import { divUnits, formatDecimal, UNIT, type Units } from '../../domain/decimal.ts'
import type { Order } from '../../domain/orders.ts'

export interface OrderView {
  order_id: string
  account: string
  venue: string
  symbol: string
  side: string
  type: string
  qty: string
  price: string | null
  /**
   * A market order's protection price: it went to the venue as a limit at it (IOC, FOK when FOK), never filling worse
   * than what was reserved and checked; null for a limit order and a market order sent as a plain market order.
   */
  protection_price: string | null
  tif: string
  post_only: boolean
  reduce_only: boolean
  client_order_id: string | null
  state: string
  filled_qty: string
  avg_fill_price: string | null
  venue_order_id: string | null
  lane: number
  last_reason: string | null
  cancel_requested: boolean
  amend: { amend_id: number; qty: string; price: string | null; stage: string } | null
  accepted_at_ms: number
  /** The time-to-live the order was accepted with (ttl_ms), null when none. */
  ttl_ms: number | null
  /** When that time-to-live ends (accepted_at_ms + ttl_ms): past it the order is never sent, and canceled if resting. */
  expires_at_ms: number | null
  updated_at_ms: number
  unknown_since_ms: number | null
}

export function orderView(order: Order): OrderView {
  return {
    order_id: order.orderId,
    account: order.accountId,
    venue: order.venue,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    qty: formatDecimal(order.qty),
    price: order.price === null ? null : formatDecimal(order.price),
    protection_price: order.protectionPrice === null ? null : formatDecimal(order.protectionPrice),
    tif: order.tif,
    post_only: order.postOnly,
    reduce_only: order.reduceOnly,
    client_order_id: order.clientOrderId,
    state: order.status,
    filled_qty: formatDecimal(order.cumQty),
    avg_fill_price: order.cumQty > 0n ? formatDecimal(averageFillPrice(order)) : null,
    venue_order_id: order.venueOrderId,
    lane: order.lane,
    last_reason: order.lastReason,
    cancel_requested: order.cancelWanted,
    amend:
      order.amend === null || order.amend === undefined
        ? null
        : { amend_id: order.amend.amendId, qty: formatDecimal(order.amend.qty), price: order.amend.price === null ? null : formatDecimal(order.amend.price), stage: order.amend.stage },
    accepted_at_ms: order.acceptedAtMs,
    ttl_ms: order.expiresAtMs === null ? null : order.expiresAtMs - order.acceptedAtMs,
    expires_at_ms: order.expiresAtMs,
    updated_at_ms: order.updatedAtMs,
    unknown_since_ms: order.unknownSinceMs,
  }
}

/**
 * The exact notional of an order's fills ÷ its filled quantity, rounded once, half-even: cumNotional is each fill's
 * notional rounded to the unit, and dividing it would round twice (a fill of 0.0001 at 49999.99995 showed 50000);
 * cumNotionalRemainder holds what those roundings dropped, in units of 1e-16. divUnits(a, b) rounds a × UNIT ÷ b, so
 * the exact notional (in 1e-16) over cumQty × UNIT is exact notional ÷ cumQty: the price in units.
 */
function averageFillPrice(order: Order): Units {
  const exactNotional = order.cumNotional * UNIT + order.cumNotionalRemainder
  return divUnits(exactNotional, order.cumQty * UNIT, 'half_even')
}
