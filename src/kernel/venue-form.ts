/**
 * The order as the venue is asked to hold it (spec 004 §8, anti-slippage): a market order with a protection price goes
 * out as a marketable limit at that price, IOC (FOK when it is FOK), so no fill of it is worse than the price its
 * reservation and the policy's max notional were checked at (src/kernel/intake/sent-order.ts). Every other order —
 * a limit, a market order without one (its instrument cannot take the limit, or it was accepted before protection
 * existed) — goes out as it is. Pure, from the order alone: the first send, a retry, a resend, a new leader's send
 * and a read-back's picture of the venue all build the same request.
 */

import type { Units } from '../domain/decimal.ts'
import type { Order, OrderType, TimeInForce } from '../domain/orders.ts'
import { protectedTif } from './intake/sent-order.ts'

export interface VenueForm {
  type: OrderType
  /** Absent: a plain market order. */
  price?: Units
  tif: TimeInForce
}

export function venueFormOf(order: Pick<Order, 'type' | 'price' | 'protectionPrice' | 'tif'>): VenueForm {
  if (order.type === 'market' && order.protectionPrice !== null) return { type: 'limit', price: order.protectionPrice, tif: protectedTif(order.tif) }
  return { type: order.type, ...(order.price === null ? {} : { price: order.price }), tif: order.tif }
}
