/**
 * A leader's start refuses a log holding orders open on a venue it has no adapter for (VENUE_GONE_ORDERS_OPEN): the
 * config's `venues[]` lost the venue's entry while orders were working there. Started anyway, such an order was
 * orphaned for good: a cancel was recorded as sent while the executor found no adapter and sent nothing, read-backs
 * were skipped without a word, the order never ended and its reservation stayed held. Nothing egress decides for it
 * can reach the venue, so the only sound start is none: the operator puts the entry back, cancels (or lets settle)
 * those orders, and removes it once they ended.
 *
 * "Open" is the kernel's own notion: every state that is not terminal (TERMINAL_STATES) — an order that can still
 * change at the venue or be sent there: in flight (Enqueued, Sent), resting (AckedOpen, Partial), being canceled, or
 * Unknown (a read-back would settle it). An order that ended (filled, canceled, rejected, expired, failed) needs no
 * venue any more, and a venue entry removed after its orders all ended is fine.
 *
 * Judged on the restored state, before anything is appended to the log or noted in the anchors file (Gateway.start).
 * A standby is not judged: it sends nothing; its takeover is (it starts as a leader).
 */

import type { Order } from '../domain/orders.ts'
import { openOrdersBy } from './open-orders-by.ts'

/** Order ids named per venue in the refusal; the count says how many more. */
export const GONE_VENUE_ORDER_IDS_SHOWN = 5

/** The orders open on one venue the start has no adapter for. */
export interface GoneVenueOrders {
  venue: string
  count: number
  /** The first GONE_VENUE_ORDER_IDS_SHOWN order ids, sorted. */
  orderIds: string[]
}

/** A leader's start found orders open on venues it has no adapter for (VENUE_GONE_ORDERS_OPEN); nothing was appended. */
export class VenueGoneError extends Error {
  override readonly name = 'VenueGoneError'
  readonly code = 'VENUE_GONE_ORDERS_OPEN'

  constructor(readonly venues: readonly GoneVenueOrders[]) {
    const each = venues.map((gone) => {
      const more = gone.count > gone.orderIds.length ? ` and ${gone.count - gone.orderIds.length} more` : ''
      return `venue ${gone.venue}: ${gone.count} open order${gone.count === 1 ? '' : 's'} (${gone.orderIds.join(', ')}${more})`
    })
    super(
      `VENUE_GONE_ORDERS_OPEN: the log holds orders not ended on ${venues.length === 1 ? 'a venue' : 'venues'} the config no longer lists — ${each.join('; ')}. ` +
        'Started without the venue, nothing sent for them would reach it (no cancel, read-back or fill) and their reservations would stay held. ' +
        "Put the venue's entry back in venues[], cancel those orders or let them settle until none is open, then remove it. Nothing was appended",
    )
  }
}

/**
 * The venues not in `served` that orders not ended are on, by venue name, each with its count and first order ids;
 * empty when there are none. One pass over the orders.
 */
export function goneVenueOrders(orders: Iterable<Pick<Order, 'orderId' | 'venue' | 'status'>>, served: ReadonlySet<string>): GoneVenueOrders[] {
  return openOrdersBy(orders, (order) => (served.has(order.venue) ? null : order.venue), GONE_VENUE_ORDER_IDS_SHOWN).map(({ key, count, orderIds }) => ({ venue: key, count, orderIds }))
}

/** Throws VenueGoneError when orders not ended are on a venue not in `served`. */
export function refuseOrdersOnGoneVenues(orders: Iterable<Pick<Order, 'orderId' | 'venue' | 'status'>>, served: ReadonlySet<string>): void {
  const gone = goneVenueOrders(orders, served)
  if (gone.length > 0) throw new VenueGoneError(gone)
}
