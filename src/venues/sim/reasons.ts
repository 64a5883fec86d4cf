/**
 * The reason strings the sim venue puts in `rejected`, `retryable` and `unknown` outcomes and in reject reports.
 * Defined once here; tests and the kernel's mapping refer to them by name.
 */

export const SimReason = {
  /** A place (or an amend's new id) reused a clientOrderId the venue already knows. The original order stands. */
  duplicateClientOrderId: 'duplicate_client_order_id',
  unknownSymbol: 'unknown_symbol',
  invalidQuantity: 'invalid_quantity',
  invalidPrice: 'invalid_price',
  /**
   * The instrument's size rules (size-check.ts), named after the gateway's own refusals for them (QTY_BELOW_MIN,
   * QTY_ABOVE_MAX, NOTIONAL_BELOW_MIN): a place or an amend whose quantity is under minQty or over maxQty, or whose
   * quantity × price is under minNotional.
   */
  qtyBelowMin: 'qty_below_min',
  qtyAboveMax: 'qty_above_max',
  notionalBelowMin: 'notional_below_min',
  /** Contradictory fields: a market order with a price or post-only, post-only with IOC/FOK. */
  invalidOrder: 'invalid_order',
  postOnlyWouldCross: 'post_only_would_cross',
  /**
   * A reduce-only order that would open or increase a position, or trade past it: refused at placement and on an
   * amend, and, should the position shrink while it rests, expired before it would trade (book.ts says how).
   */
  reduceOnlyWouldIncrease: 'reduce_only_would_increase',
  venueOrderLimit: 'venue_order_limit',
  /**
   * A status query (which names no account) for a clientOrderId more than one account holds: client order ids are
   * unique per account only, so the venue cannot tell which order is meant. The egress gateway's ids are unique across
   * accounts (eg-<order id>), so it never asks such a query.
   */
  clientOrderIdAmbiguous: 'client_order_id_ambiguous',
  /** Cancel/amend of a clientOrderId this venue (and account) does not know. */
  unknownOrder: 'unknown_order',
  tooLateToCancel: 'too_late_to_cancel',
  tooLateToAmend: 'too_late_to_amend',
  /** 429: a throttle burst; the venue did nothing. */
  rateLimited: 'rate_limited',
  /** Outage configured to answer `retryable`; the venue did nothing. */
  venueUnavailable: 'venue_unavailable',
  /** The caller gave up waiting: the request may or may not have been applied. */
  timeout: 'timeout',
  /**
   * The operation failed inside the venue (a book bug): it may have been applied in part, so the answer is `unknown`
   * (followed by `: <detail>`), never a call left pending.
   */
  venueError: 'venue_error',
} as const

export type SimReasonCode = (typeof SimReason)[keyof typeof SimReason]
