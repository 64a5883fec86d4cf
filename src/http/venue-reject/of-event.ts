/**
 * A venue's refusal as the API shows it: which call it refused, the venue's reason text as recorded, and the venue
 * reject code derived from it (src/venues/reject-code-of.ts). Read from the records that carry a venue's reason:
 * `order.venue_rejected` (a place), `order.cancel_rejected` (a cancel), and an `order.amend_failed` whose reason is
 * VENUE_AMEND_REJECTED (its detail is the venue's reason).
 */

import type { DomainEvent } from '../../domain/events/index.ts'
import type { VenueRejectCode } from '../../domain/venue-reject-codes.ts'
import { venueRejectCodeOf } from '../../venues/reject-code-of.ts'
import { apiJson } from '../views/json.ts'

export interface VenueReject {
  action: 'place' | 'cancel' | 'amend'
  code: VenueRejectCode
  /** The venue's reason text, as recorded. */
  reason: string
}

export function venueRejectOf(event: DomainEvent): VenueReject | null {
  switch (event.type) {
    case 'order.venue_rejected':
      return { action: 'place', code: venueRejectCodeOf(event.venueReason), reason: event.venueReason }
    case 'order.cancel_rejected':
      return { action: 'cancel', code: venueRejectCodeOf(event.venueReason), reason: event.venueReason }
    case 'order.amend_failed':
      return event.reason === 'VENUE_AMEND_REJECTED' ? { action: 'amend', code: venueRejectCodeOf(event.detail), reason: event.detail } : null
    default:
      return null
  }
}

/**
 * A record as the API shows it (GET /v1/orders/{id}/events, the SSE streams): as logged (apiJson), and, on a venue's
 * refusal, its derived `venueRejectCode` beside the reason text — a member no record holds, named like the record's
 * own (camelCase).
 */
export function eventJson(event: DomainEvent): Record<string, unknown> {
  const json = apiJson(event) as Record<string, unknown>
  const reject = venueRejectOf(event)
  return reject === null ? json : { ...json, venueRejectCode: reject.code }
}
