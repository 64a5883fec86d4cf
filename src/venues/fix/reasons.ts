/**
 * The reason strings the FIX adapter puts in `rejected`, `retryable` and `unknown` outcomes, defined once.
 * Venue-supplied text (Text 58, reject codes) is appended after a colon where there is any.
 */

export const FixReason = {
  /** The session was not logged on: nothing was sent. */
  notLoggedOn: 'fix_not_logged_on',
  /** The message was never written to the socket (the connection ended first): nothing reached the venue. */
  notWritten: 'fix_not_written',
  /** No answer within the request timeout: the venue may or may not have acted. */
  timeout: 'fix_timeout',
  /** The connection dropped after the request was written and before the answer. */
  disconnected: 'fix_disconnected',
  /** The venue asked for a resend that covered this request; egress gap-filled it (see README). */
  gapFilled: 'fix_gap_filled',
  /** ExecutionReport ExecType=8 (Rejected). */
  venueRejected: 'fix_order_rejected',
  /** OrderCancelReject (35=9). */
  cancelRejected: 'fix_cancel_rejected',
  /** BusinessMessageReject (35=j): the venue refused the message type or its content. */
  businessReject: 'fix_business_reject',
  /** Session-level Reject (35=3) of our message. */
  sessionReject: 'fix_session_reject',
  /** Cancel/amend/status need the order's side and symbol (FIX requires them); egress does not know this id. */
  orderFactsMissing: 'fix_order_facts_missing',
  /**
   * FIX 4.2 (or a 4.4 venue that does not echo OrdStatusReqID): an earlier OrderStatusRequest about the order is still
   * owed an answer, and not yet written off; a second would make the two answers indistinguishable
   * (venue-status-owed.ts), so none is sent.
   */
  statusAnswerOwed: 'fix_status_answer_owed',
  /** The adapter cannot express the request in FIX (e.g. a market order with a price). */
  invalidRequest: 'fix_invalid_request',
  /** FIX order-entry sessions do not carry this query (or the counterpart was not configured to support it). */
  openOrdersUnsupported: 'fix_open_orders_unsupported',
  /** A mass status answer listed more open orders than openOrdersMax: the list is not taken as complete. */
  openOrdersTooMany: 'fix_open_orders_too_many',
  /**
   * A status answer (or a report of a mass status answer) egress cannot read: a field it reads present but not a value
   * it can hold, a Required one missing. Refused with a session Reject and logged (`fix.report_unreadable`); the query
   * ends `unknown` — a mass status one too, as its list would otherwise be short of that order.
   */
  statusAnswerUnreadable: 'fix_status_answer_unreadable',
  /**
   * A mass status answer listed an order without ClOrdID (11): one egress cannot name (entered at the venue, or the
   * field left out). Skipped, the list read as complete without it; the answer ends `unknown` and is logged
   * (`fix.open_order_unnamed`). No session Reject: ClOrdID is not Required in an ExecutionReport. Not scored against
   * the venue (FIX_LOCAL_REASONS).
   */
  openOrdersUnnamed: 'fix_open_orders_unnamed',
  /**
   * A fill's Commission (12) whose fee egress cannot compute from the report (CommType 4, 5, 6 or unknown; a
   * percentage stated in another currency): the report is refused, never booked with a fee of 0 (commission.ts).
   */
  commissionUncomputable: 'fix_commission_uncomputable',
  tradesUnsupported: 'fix_trades_unsupported',
  balancesUnsupported: 'fix_balances_unsupported',
} as const

export type FixReasonCode = (typeof FixReason)[keyof typeof FixReason]

/**
 * The adapter's answers that it gives itself (VenueAdapter.answeredLocally): nothing reached the venue, and the answer
 * says nothing about it. A request it cannot put to the venue (facts missing, not expressible in FIX), one it had no
 * session to send on (not logged on, or the connection ended before it was written: the session's state is what venue
 * health scores for those, down is CRITICAL, FixVenue.sessionActive), and the queries it does not make: those FIX order
 * entry has no message for (trades, balances, open orders without mass status), a status query held back while another
 * is owed an answer, a mass status answer past its own bound (openOrdersMax) or listing an order egress cannot name
 * (no ClOrdID). Those two did reach the venue, but its answer is sound FIX that egress cannot take whole, no sign of a
 * venue failing: scored, a venue holding an order entered there (which it lists without ClOrdID, as 4.4 allows) had
 * every listing count as an unknown answer, the heaviest weight, and could be held CRITICAL (places refused) for as
 * long as that order rested. Venue health scores queries too.
 */
export const FIX_LOCAL_REASONS: ReadonlySet<string> = new Set([
  FixReason.orderFactsMissing, FixReason.invalidRequest, FixReason.notLoggedOn, FixReason.notWritten,
  FixReason.tradesUnsupported, FixReason.balancesUnsupported, FixReason.openOrdersUnsupported, FixReason.statusAnswerOwed, FixReason.openOrdersTooMany,
  FixReason.openOrdersUnnamed,
])

export function withDetail(code: FixReasonCode, detail: string | undefined): string {
  return detail === undefined || detail === '' ? code : `${code}: ${detail}`
}
