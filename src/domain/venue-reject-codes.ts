/**
 * The venue reject codes: why a venue refused an order, a cancel or an amend, as one stable code of a small
 * vocabulary, so a bot or a screen can decide what to do (fix the price, stop, wait) without reading the venue's text.
 * The code is derived from the recorded venue reason text (src/venues/reject-code-of.ts), never recorded itself: every
 * log, old ones included, gets codes, and the records stay as they are. Like the reason codes (reasons.ts) a code is
 * never renamed or reused, only added; a reason text nothing maps is OTHER.
 */

export interface VenueRejectCodeInfo {
  /** What the venue said, in one line. */
  description: string
  /** What a client can do about it. */
  next: 'fix_price' | 'fix_quantity' | 'fix_request' | 'reprice' | 'wait' | 'stop' | 'read_back'
}

function code(description: string, next: VenueRejectCodeInfo['next']): VenueRejectCodeInfo {
  return { description, next }
}

export const VENUE_REJECT_CODES = {
  INSUFFICIENT_FUNDS: code('The venue account lacks the cash or margin the order needs', 'stop'),
  POST_ONLY_WOULD_CROSS: code('A post-only order (or amend) would have taken liquidity', 'reprice'),
  PRICE_INVALID: code('The price is not a valid price for the instrument (zero, negative, off the tick)', 'fix_price'),
  PRICE_OUT_OF_BAND: code("The price is outside the venue's allowed band around the current price", 'fix_price'),
  QTY_INVALID: code('The quantity is not valid for the instrument (off the lot, under its minimum or over its maximum, too small for its minimum notional, not above what is filled)', 'fix_quantity'),
  ORDER_INVALID: code('The request is one the venue does not take (contradictory fields, an unsupported order characteristic)', 'fix_request'),
  INSTRUMENT_UNKNOWN: code('The venue does not know the symbol', 'stop'),
  MARKET_CLOSED: code('The market is closed or the instrument halted', 'wait'),
  ACCOUNT_UNKNOWN: code('The venue does not know or accept the account', 'stop'),
  LIMIT_EXCEEDED: code("The order exceeds a venue limit (its open-order limit, the account's order limit)", 'wait'),
  REDUCE_ONLY_WOULD_INCREASE: code('A reduce-only order (or amend) would open or increase a position', 'stop'),
  DUPLICATE_ORDER: code('The venue already holds an order or request with this client order id', 'read_back'),
  ORDER_UNKNOWN: code('A cancel or amend named an order the venue cannot find', 'read_back'),
  TOO_LATE: code('Too late: the order was already done (filled, canceled, expired), or arrived stale', 'read_back'),
  ORDER_PENDING: code('The order has a cancel or replace in progress at the venue', 'wait'),
  RATE_LIMITED: code('The venue throttled the request', 'wait'),
  OTHER: code('Any other reason, or a reason text without a code egress knows (read the text)', 'stop'),
} as const satisfies Record<string, VenueRejectCodeInfo>

export type VenueRejectCode = keyof typeof VENUE_REJECT_CODES

export const VENUE_REJECT_CODE_NAMES = Object.keys(VENUE_REJECT_CODES) as [VenueRejectCode, ...VenueRejectCode[]]
