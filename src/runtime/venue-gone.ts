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
 * venue any more, and a venue entry removed after its orders all ended is fine — unless it ended holding synthetic
 * quantity not yet trued up (Order.syntheticPendingQty; src/kernel/synthetic-cover.ts): fills a read-back inferred from
 * the venue's status, booked at the order's limit with no fee, which the real fills behind them correct when their
 * reports or the venue's trade list come (`order.fill_trued_up`). The sweep reads such an order back until they do
 * (venue-open-orders.ts awaitsVenueNews); with no adapter for its venue it never can, and the guessed price and the
 * missing fee stayed in the books for good, without a word. So it refuses the start too, under the same code, named
 * apart from the open orders (`awaitingTrueUp`).
 *
 * Judged on the restored state, before anything is appended to the log or noted in the anchors file (Gateway.start).
 * A standby is not judged: it sends nothing; its takeover is (it starts as a leader).
 */

import type { Order } from '../domain/orders.ts'
import { isTerminal } from '../domain/states.ts'
import { OrderGroups } from './open-orders-by.ts'

/** Order ids named per venue in the refusal; the count says how many more. */
export const GONE_VENUE_ORDER_IDS_SHOWN = 5

/** What venue-gone reads of an order. */
export type GoneVenueOrder = Pick<Order, 'orderId' | 'venue' | 'status' | 'syntheticPendingQty'>

/** The orders that still need one venue the start has no adapter for. */
export interface GoneVenueOrders {
  venue: string
  /** Orders not ended on it. */
  count: number
  /** The first GONE_VENUE_ORDER_IDS_SHOWN of their ids, sorted. */
  orderIds: string[]
  /** Orders ended on it that hold synthetic quantity not yet trued up: how many, and the first ids (sorted). */
  awaitingTrueUp: { count: number; orderIds: string[] }
}

/** A leader's start found orders that still need venues it has no adapter for (VENUE_GONE_ORDERS_OPEN); nothing was appended. */
export class VenueGoneError extends Error {
  override readonly name = 'VenueGoneError'
  readonly code = 'VENUE_GONE_ORDERS_OPEN'

  constructor(readonly venues: readonly GoneVenueOrders[]) {
    const trueUps = venues.some((gone) => gone.awaitingTrueUp.count > 0)
    const what = trueUps ? 'orders not ended, or ended with a synthetic fill not yet trued up,' : 'orders not ended'
    super(
      `VENUE_GONE_ORDERS_OPEN: the log holds ${what} on ${venues.length === 1 ? 'a venue' : 'venues'} the config no longer lists — ${venues.map(describeGoneVenue).join('; ')}. ` +
        'Started without the venue, nothing sent for them would reach it (no cancel, read-back or fill) and their reservations would stay held. ' +
        (trueUps
          ? "An ended order awaiting a true-up is read back until the venue lists the real trades behind its synthetic fill, booked at the order's limit with no fee; started without the venue, that guess would stay in the books. "
          : '') +
        "Put the venue's entry back in venues[], cancel those orders or let them settle until none is open" +
        (trueUps ? ' and none awaits a true-up' : '') +
        ', then remove it. Nothing was appended',
    )
  }
}

/** One venue's part of the refusal: `venue fx: 2 open orders (a, b), 1 ended order awaiting a true-up (c)`. */
export function describeGoneVenue(gone: GoneVenueOrders): string {
  const parts: string[] = []
  if (gone.count > 0) parts.push(`${gone.count} open order${gone.count === 1 ? '' : 's'} (${idsOf(gone)})`)
  const { awaitingTrueUp } = gone
  if (awaitingTrueUp.count > 0) parts.push(`${awaitingTrueUp.count} ended order${awaitingTrueUp.count === 1 ? '' : 's'} awaiting a true-up (${idsOf(awaitingTrueUp)})`)
  return `venue ${gone.venue}: ${parts.join(', ')}`
}

function idsOf(group: { count: number; orderIds: string[] }): string {
  const more = group.count > group.orderIds.length ? ` and ${group.count - group.orderIds.length} more` : ''
  return `${group.orderIds.join(', ')}${more}`
}

/**
 * The venues not in `served` that orders still need — not ended, or ended awaiting a true-up — by venue name, each with
 * its counts and first order ids; empty when there are none. One pass over the orders.
 */
export function goneVenueOrders(orders: Iterable<GoneVenueOrder>, served: ReadonlySet<string>): GoneVenueOrders[] {
  const open = new OrderGroups(GONE_VENUE_ORDER_IDS_SHOWN)
  const trueUps = new OrderGroups(GONE_VENUE_ORDER_IDS_SHOWN)
  for (const order of orders) {
    if (served.has(order.venue)) continue
    if (!isTerminal(order.status)) open.add(order.venue, order.orderId)
    else if (order.syntheticPendingQty > 0n) trueUps.add(order.venue, order.orderId)
  }
  const venues = new Set([...open.keys(), ...trueUps.keys()])
  return [...venues].sort().map((venue) => {
    const opened = open.get(venue)
    const pending = trueUps.get(venue)
    return {
      venue,
      count: opened?.count ?? 0,
      orderIds: opened?.orderIds ?? [],
      awaitingTrueUp: { count: pending?.count ?? 0, orderIds: pending?.orderIds ?? [] },
    }
  })
}

/** Throws VenueGoneError when orders not ended, or ended awaiting a true-up, are on a venue not in `served`. */
export function refuseOrdersOnGoneVenues(orders: Iterable<GoneVenueOrder>, served: ReadonlySet<string>): void {
  const gone = goneVenueOrders(orders, served)
  if (gone.length > 0) throw new VenueGoneError(gone)
}
