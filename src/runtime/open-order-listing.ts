/**
 * A venue's list of its open orders, compared with the orders egress holds open there. An order the list shows as
 * egress holds it (open, of its account, symbol and side, the same quantity, price and filled quantity, under the
 * client id of its last applied amend, with nothing of egress's own under way) has lost nothing: no fill, cancel or
 * expiry egress has not booked. Any other open order (missing from the list, or listed differently) is read back one
 * by one (status and trades), which is what finds and books what was lost. One call per venue instead of one or two per order: the open-order sweep
 * (open-order-sweep.ts) and bootstrap's check of the orders open when egress stopped (bootstrap.ts) both use it.
 */

import { currentClientOrderId, type Order } from '../domain/orders.ts'
import type { VenueOrder, VenueOutcome } from '../venues/adapter.ts'

/** A venue's open orders by client order id. */
export type OpenOrderList = ReadonlyMap<string, VenueOrder>

/** The order statuses a list can confirm: open, with no cancel of egress's under way. */
const CONFIRMABLE: ReadonlySet<string> = new Set(['AckedOpen', 'Partial'])
const LISTED_OPEN: ReadonlySet<string> = new Set(['open', 'partially_filled'])

/**
 * One venue's list: LIST_THROTTLED when the venue asked for time (its orders wait: reading them one by one would go
 * to a venue that just said it is busy); null when it cannot list (a FIX session without mass status), did not
 * answer or was not asked (the executor stopped, no call free).
 */
export async function openOrderListOf(
  venue: string,
  listOpenOrders: (venue: string) => Promise<VenueOutcome<VenueOrder[]> | null>,
): Promise<OpenOrderList | null | typeof LIST_THROTTLED> {
  const answer = await listOpenOrders(venue)
  if (answer === null) return null
  if (answer.kind === 'retryable') return LIST_THROTTLED
  return answer.kind === 'ok' ? new Map(answer.value.map((order) => [order.clientOrderId, order])) : null
}

export const LIST_THROTTLED = Symbol('list throttled')

/**
 * Does the list show the order as egress holds it now? A report that landed while the list was asked for makes them
 * differ (the order is then read back), so a list older than what egress holds never confirms it.
 */
export function listedAsHeld(order: Order, list: OpenOrderList): boolean {
  // An amend under way may change what the venue lists at any moment; a failed one changed nothing.
  if (!CONFIRMABLE.has(order.status) || (order.amend !== null && order.amend.stage !== 'failed')) return false
  // Fills booked synthetically (a status the trades did not yet explain) wait for their real trades: a read-back
  // trues them up to the real price, fee and execId, where the list's equal cumQty would hide the guess for good.
  if (order.syntheticPendingQty > 0n) return false
  const venueOrder = list.get(currentClientOrderId(order))
  if (venueOrder === undefined || !LISTED_OPEN.has(venueOrder.status)) return false
  // Client ids are unique per account only at a venue: another account's order under ours confirms nothing of ours.
  if (venueOrder.account !== order.accountId || venueOrder.symbol !== order.symbol || venueOrder.side !== order.side) return false
  if (venueOrder.cumQty !== order.cumQty || venueOrder.qty !== order.qty) return false
  return order.price === null || venueOrder.price === undefined || venueOrder.price === order.price
}
