/**
 * The reason-code dictionary (§16 I-102). Every refusal, venue answer, reconcile result, gate verdict and kill-switch
 * action that egress records names one of these codes. Codes are stable strings: clients, dashboards and golden traces
 * key on them, so a code is never renamed or reused — only added. Each carries its error class, a one-line human
 * description, and the HTTP status the API layer should answer with when the code ends a request.
 */

import type { ErrorClass } from './error-classes.ts'

export interface ReasonInfo {
  errorClass: ErrorClass
  httpStatus: number
  description: string
}

function reason(errorClass: ErrorClass, httpStatus: number, description: string): ReasonInfo {
  return { errorClass, httpStatus, description }
}

export const REASONS = {
  // guard 1: syntax
  SYNTAX_INVALID: reason('definite_reject', 400, 'The order body is malformed or misses a required field'),
  IDEMPOTENCY_KEY_MISSING: reason('definite_reject', 400, 'An Idempotency-Key header or client_order_id is required'),
  // idempotency (intent gateway)
  IDEMPOTENCY_CONFLICT: reason('conflict', 409, 'The idempotency key was already used with a different body'),
  // guard 2: permission / policy
  PERMISSION_DENIED: reason('definite_reject', 403, 'The principal has no role that may do this'),
  ACCOUNT_NOT_PERMITTED: reason('definite_reject', 403, 'The principal may not act for this account'),
  POLICY_MISSING: reason('definite_reject', 403, 'No policy exists for the account; a missing policy denies'),
  POLICY_EXPIRED: reason('definite_reject', 403, 'The account policy is outside its validity window'),
  POLICY_DENIED: reason('definite_reject', 403, 'The account policy does not allow this'),
  PRINCIPAL_KIND_NOT_ALLOWED: reason('definite_reject', 403, 'The account policy does not let this kind of principal (bot or trader) place or amend orders; cancels still pass'),
  INSTRUMENT_UNKNOWN: reason('definite_reject', 422, 'No instrument is configured for this venue and symbol'),
  SYMBOL_NOT_ALLOWED: reason('definite_reject', 403, 'The account policy does not allow this symbol'),
  MARKET_ORDERS_DISABLED: reason('definite_reject', 403, 'Market orders are not enabled for this account and instrument'),
  ORDER_NOTIONAL_LIMIT: reason('definite_reject', 422, 'The order notional exceeds the account limit'),
  OPEN_ORDERS_LIMIT: reason('retryable', 429, 'The account has as many open orders as its policy allows'),
  SELF_TRADE_PREVENTED: reason('definite_reject', 422, 'The order would cross an open order of the same account on the other side of the same venue and symbol (a self-trade); cancel that order first'),
  // guard 3: mode
  MODE_HALTED: reason('definite_reject', 503, 'Trading is halted; only cancels and closes are accepted'),
  MODE_CANCEL_ONLY: reason('definite_reject', 503, 'The gateway is in cancel-only mode'),
  ACCOUNT_HALTED: reason('definite_reject', 503, "The account's own kill switch is HALT (an auto-stop trip on its order rate, or an operator's POST /v1/accounts/:id/halt): nothing new of it is accepted or sent; cancels and closes pass, other accounts trade on"),
  ACCOUNT_CANCEL_ONLY: reason('definite_reject', 503, "The account's own kill switch is CANCEL_ONLY (an auto-stop trip on its order rate, or an operator's POST /v1/accounts/:id/cancel-only): only its cancels pass, other accounts trade on"),
  LIVE_NOT_PERMITTED: reason('definite_reject', 403, 'The principal or account is not allowed to trade live'),
  LIVE_NOT_READY: reason('definite_reject', 503, 'Live prerequisites are missing (credential, environment or HA leader)'),
  CONFIG_DIGEST_MISMATCH: reason('definite_reject', 503, 'The running config digest differs from the recorded one'),
  // guard 4: data health
  DATA_MISSING: reason('retryable', 503, 'No reference price is available for the instrument'),
  DATA_STALE: reason('retryable', 503, 'The reference price is older than allowed'),
  DATA_JUMP: reason('retryable', 503, 'The reference price jumped more than allowed since the previous observation'),
  PRICE_BAND: reason('definite_reject', 422, 'The limit price is outside the band around the reference price'),
  DATA_THIN_BOOK: reason('retryable', 503, 'The book is too thin for an order that takes liquidity: no usable touch, too little size at the side it takes, or too wide a spread'),
  IMPACT_TOO_LARGE: reason('definite_reject', 422, 'The order would take more of the visible size at the touch than allowed; send less, or a passive limit'),
  // guard 5: reservation
  INSUFFICIENT_FUNDS: reason('definite_reject', 422, 'Available cash does not cover quantity × price plus fees'),
  INSUFFICIENT_POSITION: reason('definite_reject', 422, 'Available position does not cover the sell quantity'),
  REDUCE_ONLY_WOULD_INCREASE: reason('definite_reject', 422, 'A reduce-only order would open or increase a position'),
  // guard 6: capability / rounding
  ORDER_TYPE_UNSUPPORTED: reason('definite_reject', 422, 'The instrument does not support this order type'),
  TIF_UNSUPPORTED: reason('definite_reject', 422, 'The instrument does not support this time in force'),
  POST_ONLY_UNSUPPORTED: reason('definite_reject', 422, 'Post-only is not supported for this instrument or order'),
  REDUCE_ONLY_UNSUPPORTED: reason('definite_reject', 422, 'Reduce-only is not supported for this instrument'),
  QTY_BELOW_MIN: reason('definite_reject', 422, 'The quantity, rounded down to the lot, is below the minimum'),
  QTY_ABOVE_MAX: reason('definite_reject', 422, 'The quantity exceeds the instrument maximum'),
  NOTIONAL_BELOW_MIN: reason('definite_reject', 422, 'The rounded order notional is below the instrument minimum'),
  PRICE_OFF_TICK: reason('definite_reject', 422, 'The price the order was accepted at is not a multiple of the instrument tick size, changed since; nothing was sent'),
  QTY_OFF_LOT: reason('definite_reject', 422, 'The quantity the order was accepted for is not a multiple of the instrument lot size, changed since; nothing was sent'),
  // guard 7: lane admission
  LANE_FULL: reason('retryable', 429, 'The lane is at capacity; new orders are shed, retry later'),
  OVERLOADED: reason('retryable', 429, 'The gateway or the account is over its load bound; new orders are shed, retry later'),
  // executor / gate
  GATE_BLOCKED: reason('definite_reject', 503, 'The I-100 safety gate did not pass; nothing was sent'),
  SHADOW_NOT_SENT: reason('definite_reject', 200, 'Shadow mode: the order was decided and recorded but not sent'),
  VENUE_HEALTH_CRITICAL: reason('definite_reject', 503, "The venue's recorded health is CRITICAL (I-100 check 8) and no override in force covers the order; nothing was sent"),
  // venue health overrides (§14 emergency override)
  VENUE_UNKNOWN: reason('definite_reject', 404, 'No instrument is configured on this venue'),
  OVERRIDE_NOT_PENDING: reason('conflict', 409, 'No override of this id awaits approval on the venue (none proposed, approved already, revoked, replaced or expired)'),
  OVERRIDE_SELF_APPROVAL: reason('definite_reject', 403, 'An override needs two distinct admins: its proposer (the same sub in any letter case) cannot approve it'),
  OVERRIDE_NOT_FOUND: reason('definite_reject', 404, 'The venue has no override to revoke'),
  // token revocations (§9, §14)
  REVOCATIONS_FULL: reason('conflict', 409, 'The revocation set holds as many live entries as it may (10000); entries leave as their tokens expire: revoke by subject instead'),
  // order lists (spec 004 §3 compound/: OCO)
  ORDER_LISTS_FULL: reason('retryable', 429, 'As many order lists are open as the gateway holds (10000); retry when some have ended'),
  ORDER_LIST_NOT_FOUND: reason('definite_reject', 404, 'No such order list'),
  ORDER_LIST_LEGS_MISMATCH: reason('definite_reject', 400, "An OCO list's two orders must be on the list's account and on one venue and symbol, with distinct client_order_ids and one ttl_ms (or none)"),
  OCO_SIBLING_FILLED: reason('definite_reject', 200, 'Canceled by its OCO list: the other order of the list executed (filled, at least in part)'),
  OCO_SIBLING_CANCELED: reason('definite_reject', 200, 'Canceled by its OCO list: the other order of the list was canceled'),
  OCO_SIBLING_ENDED: reason('definite_reject', 200, 'Canceled by its OCO list: the other order of the list ended (rejected, expired or failed)'),
  OCO_LEG_REVIVED: reason('definite_reject', 200, 'Canceled by its OCO list, which had fired: venue news brought the order back live after it had ended or been canceled'),
  OCO_BOTH_EXECUTED: reason('internal', 200, 'Both orders of an OCO list executed (the second filled before its cancel reached the venue): up to twice the exposure the list was for; operator attention needed'),
  // cancel / resend commands
  ORDER_NOT_FOUND: reason('definite_reject', 404, 'No such order'),
  ORDER_NOT_CANCELABLE: reason('conflict', 409, 'The order is in a state that cannot be canceled'),
  ORDER_NOT_RESENDABLE: reason('conflict', 409, 'The order is not proven absent at the venue and cannot be resent'),
  CANCELED_BEFORE_SEND: reason('definite_reject', 200, 'The order was canceled before it was sent to the venue'),
  MODE_ESCALATED: reason('definite_reject', 200, 'Not sent: the mode changed to one that reaches further (paper to live) while the order or amend waited; it was decided under the mode before, so ask again'),
  TTL_EXPIRED: reason('definite_reject', 200, "The order's time-to-live (ttl_ms) passed: never sent after it, ended unsent or canceled at the venue"),
  STALE_AT_START: reason('definite_reject', 200, 'Not sent: the order (or its amend) still waited to go out when egress stopped, and the next start came longer after its acceptance (an amend: its request) than the resend window; ended unsent (or read back and canceled at the venue if sent before; an amend fails, the order standing at its old terms), so ask again'),
  USER_CANCEL: reason('definite_reject', 200, 'Canceled on request'),
  // amend (replace) commands
  ORDER_NOT_AMENDABLE: reason('conflict', 409, 'The order is in a state or of a kind that cannot be amended'),
  AMEND_PENDING: reason('retryable', 409, 'Another amend of this order is still in progress; retry when it is done'),
  AMEND_QTY_BELOW_FILLED: reason('definite_reject', 422, 'The amended quantity is not above the quantity already filled'),
  AMEND_SUPERSEDED: reason('definite_reject', 200, 'The amend was dropped before it was sent: a cancel was requested'),
  AMEND_NOT_APPLIED: reason('definite_reject', 200, 'Reconciliation found the venue order without the amend'),
  VENUE_AMEND_REJECTED: reason('definite_reject', 422, 'The venue rejected the amend; the order stands unchanged'),
  // venue answers
  // A venue's refusal of a place: no record egress writes names it (order.venue_rejected keeps the venue's text, the
  // venue reject code is derived from it); it is egress_order_rejects_total's reason for one (gateway-metrics.ts).
  VENUE_REJECTED: reason('definite_reject', 422, 'The venue rejected the request'),
  VENUE_RETRYABLE: reason('retryable', 503, 'The venue did not act (throttled or not connected); the request is requeued'),
  VENUE_OUTCOME_UNKNOWN: reason('outcome_unknown', 202, 'The venue outcome is unknown; the order will be reconciled'),
  VENUE_CANCELED: reason('definite_reject', 200, 'The venue canceled the order'),
  VENUE_EXPIRED: reason('definite_reject', 200, 'The order expired at the venue'),
  VENUE_CANCEL_REJECTED: reason('definite_reject', 409, 'The venue refused the cancel (order already done or unknown)'),
  VENUE_DUPLICATE_CLIENT_ORDER_ID: reason('outcome_unknown', 202, 'The venue already has this client order id: the order exists there and will be reconciled'),
  VENUE_UNKNOWN_ORDER: reason('outcome_unknown', 202, 'The venue did not find the order; right after a send that is not proof of absence, it will be reconciled'),
  // inbox anomalies
  REPORT_DUPLICATE: reason('internal', 200, 'A venue report with an already-seen execution id was dropped'),
  REPORT_ORPHANED: reason('internal', 500, 'A venue report names an order egress does not know, or one it never sent'),
  FILL_OVERFILL: reason('internal', 500, 'A fill would take the cumulative quantity above the order quantity'),
  FILLS_MISSED: reason('outcome_unknown', 200, 'A final venue report shows more filled than the fills egress received: reconcile before concluding'),
  FILL_NOT_MONOTONIC: reason('internal', 500, 'A fill report lowers the cumulative quantity'),
  FILL_PRICE_THROUGH_LIMIT: reason('internal', 500, 'A fill was priced worse than the order limit (a buy above it, a sell below it); it is booked as the venue reported it'),
  FILL_PRICE_BEYOND_WORST: reason('internal', 500, "A market order sent with no limit filled beyond the worst price it was reserved and checked at (a buy above the band's upper edge, a sell below its lower edge); it is booked as the venue reported it, and the account's available balance may be below zero"),
  TRANSITION_REFUSED: reason('internal', 500, 'An event asked for a state transition the table forbids'),
  // reconcile
  RECONCILE_NOT_FOUND: reason('definite_reject', 200, 'After the grace time the venue does not know the order: not at venue'),
  RECONCILE_CONVERGED: reason('definite_reject', 200, 'Reconciliation established the order state from venue evidence'),
  RECONCILE_SYNTHETIC_FILL: reason('internal', 500, 'The venue reports more filled than its trades explain; a fill was inferred'),
  RECONCILE_SYNTHETIC_UNRECORDABLE: reason(
    'internal',
    500,
    'The venue reports more filled than its trades explain, and the inferred fill would take the synthetic cash pending past what a record holds: nothing was booked, the order stays below the venue until its real trades come',
  ),
  RECONCILE_CUM_BELOW: reason(
    'internal',
    500,
    'The venue counts less filled than egress booked (a trade busted or corrected at the venue): nothing is reversed, the fills as booked overstate the position and funds; operator attention needed',
  ),
  CANCEL_ATTEMPTS_EXCEEDED: reason('internal', 500, 'The venue still holds open an order after many cancels: the cancel is repeated at a bounded pace; operator attention needed'),
  RECONCILE_DEFERRED: reason('outcome_unknown', 200, 'The venue answer settles nothing yet; the order stays as it is and is asked about again later'),
  // kill switches
  KILL_SWITCH_HALT: reason('definite_reject', 200, 'HALT engaged: nothing new is accepted or sent'),
  KILL_SWITCH_CANCEL_ONLY: reason('definite_reject', 200, 'CANCEL_ONLY engaged: only cancels are sent'),
  KILL_SWITCH_RESUME: reason('definite_reject', 200, 'Trading resumed'),
  FLATTEN_REQUESTED: reason('definite_reject', 200, 'Canceled or closed by a flatten of the account'),
  FLATTEN_NO_PRICE: reason('retryable', 503, 'A position could not be closed: no reference price for the instrument'),
  FLATTEN_POSITION_UNRECORDABLE: reason('definite_reject', 422, 'A position is beyond the largest amount a record holds (20 whole digits): the flatten was refused and nothing was canceled or closed'),
  FLATTEN_NOT_CLOSED: reason('definite_reject', 200, "A flatten left part of a position open: what is left is under the instrument's size rules or past the closes one flatten sends; the answer's not_closed names it"),
  FLATTEN_CLOSES_MAX: reason('retryable', 200, 'A flatten sends at most so many closes per instrument: what is left past them is closed by a new flatten once they have ended'),
} as const satisfies Record<string, ReasonInfo>

export type ReasonCode = keyof typeof REASONS

export const REASON_CODES = Object.keys(REASONS) as ReasonCode[]

export function reasonInfo(code: ReasonCode): ReasonInfo {
  return REASONS[code]
}

export function isReasonCode(text: string): text is ReasonCode {
  return Object.hasOwn(REASONS, text)
}
