/**
 * A venue reason text (`venueReason` of `order.venue_rejected` and `order.cancel_rejected`, the detail of an
 * `order.amend_failed` VENUE_AMEND_REJECTED) → its venue reject code (src/domain/venue-reject-codes.ts). Derived, never
 * recorded: the same text always gives the same code, so old logs get codes too and no record changes.
 *
 * The adapters' convention is `CODE: detail` (reasonCodeIn in adapter.ts): the reason is read segment by segment
 * (split at `: `). Segments that are an adapter's own wrapper (`fix_order_rejected`, `fix_cancel_rejected`, …) are
 * passed over; the first other segment decides: a venue code egress knows (the sim's and the JSONL protocol's codes,
 * which are the sim's; a few more a JSONL venue may send), a FIX `OrdRejReason <n>` or `CxlRejReason <n>` (the FIX
 * adapter puts it first, reject-reasons.ts), or else OTHER. Free text is never guessed at: "insufficient funds" in a
 * FIX Text without OrdRejReason is OTHER (the text is shown beside the code).
 */

import { VenueReason } from '../domain/venue-reasons.ts'
import type { VenueRejectCode } from '../domain/venue-reject-codes.ts'
import { FixReason } from './fix/reasons.ts'
import { fixRejectCodeOf, ORD_REJ_REASON_CODES } from './fix/reject-reasons.ts'
import { JsonlReason } from './jsonl/reasons.ts'
import { SimReason } from './sim/reasons.ts'

/** Venue codes (a segment exactly) and the reject code each is. */
const CODE_OF: ReadonlyMap<string, VenueRejectCode> = new Map<string, VenueRejectCode>([
  [SimReason.postOnlyWouldCross, 'POST_ONLY_WOULD_CROSS'],
  [SimReason.invalidPrice, 'PRICE_INVALID'],
  [SimReason.invalidQuantity, 'QTY_INVALID'],
  // The size rules: what fixes them is the quantity (a notional under the minimum, a larger one), as FIX's
  // OrdRejReason 13 (Incorrect quantity) says of them.
  [SimReason.qtyBelowMin, 'QTY_INVALID'],
  [SimReason.qtyAboveMax, 'QTY_INVALID'],
  [SimReason.notionalBelowMin, 'QTY_INVALID'],
  [SimReason.invalidOrder, 'ORDER_INVALID'],
  [SimReason.unknownSymbol, 'INSTRUMENT_UNKNOWN'],
  [SimReason.venueOrderLimit, 'LIMIT_EXCEEDED'],
  [SimReason.reduceOnlyWouldIncrease, 'REDUCE_ONLY_WOULD_INCREASE'],
  [VenueReason.duplicateClientOrderId, 'DUPLICATE_ORDER'],
  [VenueReason.unknownOrder, 'ORDER_UNKNOWN'],
  [SimReason.tooLateToCancel, 'TOO_LATE'],
  [SimReason.tooLateToAmend, 'TOO_LATE'],
  [VenueReason.rateLimited, 'RATE_LIMITED'],
  [JsonlReason.venueBusy, 'RATE_LIMITED'],
  [JsonlReason.opUnknown, 'ORDER_INVALID'],
  [JsonlReason.requestInvalid, 'ORDER_INVALID'],
  [FixReason.invalidRequest, 'ORDER_INVALID'],
  // Codes no venue egress ships produces, for a JSONL venue of its own that refuses for these reasons.
  ['insufficient_funds', 'INSUFFICIENT_FUNDS'],
  ['price_out_of_band', 'PRICE_OUT_OF_BAND'],
  ['market_closed', 'MARKET_CLOSED'],
  ['unknown_account', 'ACCOUNT_UNKNOWN'],
])

/** The adapters' wrappers: they say which call was refused, the segment after them says why. */
const WRAPPERS: ReadonlySet<string> = new Set([FixReason.venueRejected, FixReason.cancelRejected, FixReason.businessReject, FixReason.sessionReject])

/** Segments read at most: a reason is a short text, and the code leads it. */
const SEGMENTS_READ_MAX = 4

export function venueRejectCodeOf(venueReason: string): VenueRejectCode {
  const segments = venueReason.split(': ', SEGMENTS_READ_MAX)
  for (let index = 0; index < segments.length; index += 1) {
    const segment = segments[index] as string
    if (WRAPPERS.has(segment)) continue
    const known = CODE_OF.get(segment) ?? fixRejectCodeOf(segment)
    if (known !== null) return known
    // Before the FIX adapter led with `OrdRejReason <n>`, an ExecType=8 without Text was `fix_order_rejected: <n>`.
    if (index > 0 && segments[index - 1] === FixReason.venueRejected && Object.hasOwn(ORD_REJ_REASON_CODES, segment)) return ORD_REJ_REASON_CODES[segment] as VenueRejectCode
    return 'OTHER'
  }
  return 'OTHER'
}
