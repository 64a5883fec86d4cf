/**
 * A venue's list of its open orders, compared with the orders egress holds open there. An order the list shows as
 * egress holds it (open, the same quantity, price and filled quantity, under the client id of its last applied amend,
 * with nothing of egress's own under way) has lost nothing: no fill, cancel or expiry egress has not booked. Any other
 * open order (missing from the list, or listed differently) is read back one by one (status and trades), which is
 * what finds and books what was lost. One call per venue instead of one or two per order: the open-order sweep
 * (open-order-sweep.ts) and bootstrap's check of the orders open when egress stopped (bootstrap.ts) both use it.
 */

import { currentClientOrderId, type Order } from '../domain/orders.ts'
import type { VenueOrder } from '../venues/adapter.ts'

/** A venue's open orders by client order id. */
export type OpenOrderList = ReadonlyMap<string, VenueOrder>

/** The order statuses a list can confirm: open, with no cancel of egress's under way. */
const CONFIRMABLE: ReadonlySet<string> = new Set(['AckedOpen', 'Partial'])
const LISTED_OPEN: ReadonlySet<string> = new Set(['open', 'partially_filled'])

/** Asks for one venue's list; null when the venue cannot list (a FIX session without mass status) or did not answer. */
export async function openOrderListOf(venue: string, listOpenOrders: (venue: string) => Promise<VenueOrder[] | null>): Promise<OpenOrderList | null> {
  const orders = await listOpenOrders(venue)
  return orders === null ? null : new Map(orders.map((order) => [order.clientOrderId, order]))
}

/**
 * Does the list show the order as egress holds it now? A report that landed while the list was asked for makes them
 * differ (the order is then read back), so a list older than what egress holds never confirms it.
 */
export function listedAsHeld(order: Order, list: OpenOrderList): boolean {
  // An amend under way may change what the venue lists at any moment; a failed one changed nothing.
  if (!CONFIRMABLE.has(order.status) || (order.amend !== null && order.amend.stage !== 'failed')) return false
  const venueOrder = list.get(currentClientOrderId(order))
  if (venueOrder === undefined || !LISTED_OPEN.has(venueOrder.status)) return false
  if (venueOrder.cumQty !== order.cumQty || venueOrder.qty !== order.qty) return false
  return order.price === null || venueOrder.price === undefined || venueOrder.price === order.price
}
