/**
 * `venue_reject` of GET /v1/orders/{id}: the order's latest venue refusal (of its place, a cancel or an amend) with the
 * venue reject code and the venue's reason text. Only there (the list would read the log once per order), and left
 * out while the log index is still being built after a restart, as `trace_id` is.
 */

import type { LogIndex } from '../log-index.ts'
import { lastVenueRejectOf } from './last-of-order.ts'

export interface VenueRejectView {
  action: 'place' | 'cancel' | 'amend'
  code: string
  reason: string
  at_ms: number
  lsn: number
}

export function venueRejectView(logIndex: LogIndex, orderId: string): { venue_reject?: VenueRejectView | null } {
  const last = lastVenueRejectOf(logIndex, orderId)
  if (last === undefined) return {}
  return { venue_reject: last === null ? null : { action: last.action, code: last.code, reason: last.reason, at_ms: last.atMs, lsn: last.lsn } }
}
