/** How the sim venue answers a place under a client order id the account holds already (SimVenueOptions.duplicateClientOrderId). */

import type { PlaceAck, VenueOutcome } from '../adapter.ts'
import { ok, rejected } from './book-result.ts'
import type { BookOptions } from './options.ts'
import type { SimOrder } from './order.ts'
import { SimReason } from './reasons.ts'

/** The answer to a repeat of `known`'s client order id. */
export function duplicatePlaceAnswer(known: SimOrder, policy: BookOptions['duplicateClientOrderId']): VenueOutcome<PlaceAck> {
  // No report: a report carrying this clientOrderId would be read as news about the existing order.
  if (policy === 'reject') return rejected(SimReason.duplicateClientOrderId)
  // An idempotent venue answers a repeat as it answered the first: an order it refused is refused again, for the
  // same reason (an `ok` would tell the gateway a rejected order lives at the venue, until a report or a
  // reconcile said otherwise).
  if (known.status === 'rejected') return rejected(known.rejectReason ?? SimReason.duplicateClientOrderId)
  return ok({ venueOrderId: known.venueOrderId })
}
