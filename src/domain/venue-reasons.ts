/**
 * The venue reason strings the kernel must read, because they change what an answer proves. Adapters normalise
 * their venue's codes to these (the sim venue uses them verbatim, see src/venues/sim/reasons.ts); every other reason
 * text is only recorded.
 *
 * - duplicate_client_order_id: the venue already holds an order (or amend) with this client order id. Since egress
 *   derives client ids from its own order ids, that order is ours: the send reached the venue before. It is evidence
 *   that the order exists, never a definite reject.
 * - unknown_order: a cancel or amend named an id the venue cannot find. Right after a send a venue may simply not have
 *   indexed the order yet, so this is not proof of absence either; reconciliation decides, after its grace time.
 * - rate_limited: a `retryable` answer that is a throttle; venue health scoring (src/runtime/venue-health-score.ts)
 *   weighs it lighter than a venue that could not act.
 */

export const VenueReason = {
  duplicateClientOrderId: 'duplicate_client_order_id',
  unknownOrder: 'unknown_order',
  /** A throttle (HTTP 429 and the like): the venue did nothing. Venue health counts it apart from other retryable answers. */
  rateLimited: 'rate_limited',
} as const
