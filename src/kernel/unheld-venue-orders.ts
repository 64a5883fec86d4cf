/**
 * Open venue orders egress does not hold, found at a start (src/runtime/unheld-open-orders.ts): a venue's list of
 * open orders names an order by one of egress's client order ids, and the state holds no such order. It was placed
 * past the end of the log this start replayed — a data directory restored from a backup, a standby promoted without
 * the old leader's last records (`degrade_async`) — or retired from the hot state while the venue kept it open. It
 * rests at the venue, can fill, and nothing in egress watches it: its reports, if any come, are orphans. Each is
 * raised as a REPORT_ORPHANED alert here, so the operator learns of it at the start and not at its first fill.
 *
 * The runtime names at most UNHELD_ALERTS_MAX per venue and counts the rest (`moreCount`, one more alert); the kernel
 * checks the named ones against the state again. Orders under other client ids (another system's on a shared
 * account) are not egress's and raise nothing. Nothing is booked or changed: only alerts.
 */

import { orderIdFromClientId, type Order } from '../domain/orders.ts'
import type { VenueOrder } from '../venues/adapter.ts'
import { DONE_REPLY, type Decision, type UnheldVenueOrdersCommand } from './commands.ts'
import type { KernelState } from './state.ts'

/** Orders named (one alert each) per venue at a start, at most; the rest are counted in one more alert. */
export const UNHELD_ALERTS_MAX = 100

/** Is `venueOrder` listed under one of egress's client ids, naming no order `orders` holds? */
export function isUnheld(orders: ReadonlyMap<string, Order>, venueOrder: VenueOrder): boolean {
  const orderId = orderIdFromClientId(venueOrder.clientOrderId)
  return orderId !== null && !orders.has(orderId)
}

export function decideUnheldVenueOrders(state: KernelState, command: UnheldVenueOrdersCommand): Decision {
  const { nowMs, venue } = command
  const events = command.orders
    .filter((order) => isUnheld(state.orders, order))
    .slice(0, UNHELD_ALERTS_MAX)
    .map((order) => ({
      type: 'alert.raised' as const,
      atMs: nowMs,
      reason: 'REPORT_ORPHANED' as const,
      orderId: null,
      detail:
        `${venue} lists ${order.clientOrderId} (venue order ${order.venueOrderId}, ${order.symbol} ${order.side}, ${order.status}) open at the start, ` +
        'and egress holds no such order: placed past the end of the log this start replayed (a restored backup, a failover without the ' +
        'last records) or retired; it is live at the venue and not watched',
    }))
  if (command.moreCount > 0) {
    events.push({
      type: 'alert.raised',
      atMs: nowMs,
      reason: 'REPORT_ORPHANED',
      orderId: null,
      detail: `${venue} lists ${command.moreCount} more open orders under egress's client ids that egress does not hold (named: the first ${UNHELD_ALERTS_MAX})`,
    })
  }
  return { events, reply: DONE_REPLY }
}
