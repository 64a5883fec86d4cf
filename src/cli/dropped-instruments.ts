/**
 * Orders a start finds open on an instrument the config no longer lists: a venue's `instruments` (a FIX venue's, or
 * the sim's entry) left it out since the orders were placed. They are not lost: the kernel decides cancels, read-backs
 * and fills by the order's own venue and symbol, and the venue's adapter sends them on the order's symbol (FIX takes
 * side and symbol from the order, src/cli/serve-fix.ts orderFactsLookup), so they stay manageable; only new orders and
 * amends on the instrument are refused (INSTRUMENT_UNKNOWN), as is a start's resend of one proven absent. But such an
 * order rests at the venue until someone cancels it, and the config change that made it so said nothing. So the start
 * says it, once per instrument, with the count and the first order ids: the operator took the instrument off new
 * trading and may not know orders are still working on it.
 *
 * An order whose venue has no entry at all (the whole venue left the config) has no adapter to reach it: nothing egress
 * sends for it gets there. The start refuses that before this is asked (VENUE_GONE_ORDERS_OPEN, src/runtime/venue-gone.ts),
 * so such orders are not named here.
 */

import { instrumentKey, type Instrument } from '../domain/instruments.ts'
import type { Order } from '../domain/orders.ts'
import { openOrdersBy, type OpenOrderGroup } from '../runtime/open-orders-by.ts'

/** Order ids named per instrument in its line; the count says how many more. */
export const DROPPED_ORDER_IDS_SHOWN = 5

/**
 * The lines to log: one per instrument the config no longer lists that open (non-terminal) orders are on, in key
 * order. `venues`: the venues this start has an adapter for; orders on any other are left to the start's refusal
 * (VENUE_GONE_ORDERS_OPEN). One pass over the orders the kernel holds.
 */
export function droppedInstrumentLines(
  orders: Iterable<Pick<Order, 'orderId' | 'venue' | 'symbol' | 'status'>>,
  instruments: readonly Pick<Instrument, 'venue' | 'symbol'>[],
  venues: ReadonlySet<string>,
): string[] {
  const listed = new Set(instruments.map((instrument) => instrumentKey(instrument.venue, instrument.symbol)))
  const keyOf = (order: Pick<Order, 'venue' | 'symbol'>): string | null => {
    const key = instrumentKey(order.venue, order.symbol)
    return venues.has(order.venue) && !listed.has(key) ? key : null
  }
  return openOrdersBy(orders, keyOf, DROPPED_ORDER_IDS_SHOWN).map(lineOf)
}

function lineOf({ key, count, orderIds }: OpenOrderGroup): string {
  const more = count > orderIds.length ? ` and ${count - orderIds.length} more` : ''
  const orders = `${count} order${count === 1 ? ' is' : 's are'} still open on it (${orderIds.join(', ')}${more})`
  return `warning: instrument ${key} is no longer in the config, and ${orders}: new orders and amends on it are refused (INSTRUMENT_UNKNOWN), cancels, read-backs and fills still go through; cancel them (POST /v1/orders/:id/cancel) unless they should rest`
}
