/**
 * The sim venue's record of one order, and the read-only view of it that `inspect()` hands out.
 */

import type { Units } from '../../domain/decimal.ts'
import type { OrderType, Side, TimeInForce, VenueOrder, VenueOrderStatus } from '../adapter.ts'

export interface SimOrder {
  venueOrderId: string
  /** Its place in the venue's creation order (1, 2, …; the N of its `VENUE-oN` id). */
  sequence: number
  /** The current client order id (changes when an amend brings a new one). */
  clientOrderId: string
  /** Every client order id this order has carried, oldest first: the amend chain. */
  clientOrderIds: string[]
  account: string
  symbol: string
  side: Side
  type: OrderType
  tif: TimeInForce
  postOnly: boolean
  reduceOnly: boolean
  qty: Units
  price?: Units
  cumQty: Units
  status: VenueOrderStatus
  rejectReason?: string
  createdAtMs: number
  expireAtMs?: number
}

export type SimOrderView = Readonly<Omit<SimOrder, 'clientOrderIds'>> & { readonly clientOrderIds: readonly string[] }

export function isOpen(order: Pick<SimOrder, 'status'>): boolean {
  return order.status === 'open' || order.status === 'partially_filled'
}

export function bookView(order: SimOrder): SimOrderView {
  return Object.freeze({ ...order, clientOrderIds: Object.freeze([...order.clientOrderIds]) })
}

/** The adapter-facing view of an order (status and open-order queries). */
export function venueOrder(order: SimOrder): VenueOrder {
  const view: VenueOrder = {
    clientOrderId: order.clientOrderId,
    venueOrderId: order.venueOrderId,
    account: order.account,
    symbol: order.symbol,
    side: order.side,
    qty: order.qty,
    cumQty: order.cumQty,
    status: order.status,
  }
  if (order.price !== undefined) view.price = order.price
  return view
}
