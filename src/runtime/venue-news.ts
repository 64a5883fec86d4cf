/**
 * What a gateway's venues tell it unasked: execution reports go into the report intake (report-intake.ts), and a
 * venue's asks to read orders back (adapter.ts onReadBackWanted, onVenueReadBackWanted) go to the read-backs
 * (order-read-backs.ts).
 */

import type { VenueAdapter } from '../venues/adapter.ts'
import type { OrderReadBacks } from './order-read-backs.ts'
import type { ReportIntake } from './report-intake.ts'

/** Subscribes to each adapter's news; returns the unsubscribes. */
export function subscribeToVenueNews(adapters: Iterable<VenueAdapter>, reportIntake: ReportIntake, readBacks: OrderReadBacks): (() => void)[] {
  const unsubscribes: (() => void)[] = []
  for (const adapter of adapters) {
    unsubscribes.push(adapter.onReport((report) => reportIntake.take(report)))
    // News a venue sent that is no report to apply (an unsolicited status): the order is read back (adapter.ts).
    const readBackWanted = adapter.onReadBackWanted?.((clientOrderId) => readBacks.readBackClientId(clientOrderId))
    if (readBackWanted !== undefined) unsubscribes.push(readBackWanted)
    // The venue's news for a span is lost for every order (a FIX sequence reset): its open orders are read back.
    const venueReadBackWanted = adapter.onVenueReadBackWanted?.(() => readBacks.readBackVenue(adapter.venue))
    if (venueReadBackWanted !== undefined) unsubscribes.push(venueReadBackWanted)
  }
  return unsubscribes
}
