/**
 * What the log index (log-index.ts) keeps per order: the positions (LSNs) of all its records, of its decisions after
 * its intake, and of its records that may carry a venue's refusal; and which record types go into the latter two.
 */

import { eventCode } from '../domain/events/index.ts'
import { LsnLists } from './log-index-lsns.ts'

/**
 * The decisions about an order after its intake — amends accepted or refused, resends allowed or refused — whose
 * positions the index keeps besides the order's (only orders with such records get an entry), so `/explain` finds its
 * latest decisions without reading the order's history. `/explain` shows a record of each of these types as a decision.
 */
const LATER_DECISION_TYPES = ['order.amend_requested', 'order.amend_rejected', 'order.resend_requested', 'order.resend_refused'] as const
export const LATER_DECISION_CODES: ReadonlySet<number> = new Set(LATER_DECISION_TYPES.map(eventCode))
/**
 * The records that may carry a venue's refusal of a call on the order (venue-reject/of-event.ts): their positions too,
 * so the order's latest refusal is found without reading its history (venue-reject/last-of-order.ts).
 */
export const VENUE_REFUSAL_CODES: ReadonlySet<number> = new Set((['order.venue_rejected', 'order.cancel_rejected', 'order.amend_failed'] as const).map(eventCode))

/** Positions per order: of all its records, of its decisions after its intake, and of its records of venue refusals. */
export interface Positions {
  records: LsnLists
  laterDecisions: LsnLists
  venueRefusals: LsnLists
}

/** Empty lists of positions. */
export function noPositions(): Positions {
  return { records: new LsnLists(), laterDecisions: new LsnLists(), venueRefusals: new LsnLists() }
}
