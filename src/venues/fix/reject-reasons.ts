/**
 * FIX's numeric reject reasons as venue reject codes (src/domain/venue-reject-codes.ts): OrdRejReason (103) of an
 * ExecutionReport reject (ExecType=8), CxlRejReason (102) of an OrderCancelReject (35=9). Values of FIX 4.2 and 4.4,
 * and the few FIX 5.0 added that venues on 4.4 send as well (price band, price increment). A value not listed is OTHER.
 *
 * The adapter writes them into the reason text as `OrdRejReason <n>` and `CxlRejReason <n>` (reports.ts): the text
 * leads with them, so the code is read back from the record alone.
 */

import type { VenueRejectCode } from '../../domain/venue-reject-codes.ts'

export const ORD_REJ_REASON_CODES: Readonly<Record<string, VenueRejectCode>> = {
  '0': 'OTHER', // Broker / Exchange option
  '1': 'INSTRUMENT_UNKNOWN', // Unknown symbol
  '2': 'MARKET_CLOSED', // Exchange closed
  '3': 'LIMIT_EXCEEDED', // Order exceeds limit
  '4': 'TOO_LATE', // Too late to enter
  '5': 'ORDER_UNKNOWN', // Unknown order
  '6': 'DUPLICATE_ORDER', // Duplicate order (the same ClOrdID)
  '7': 'DUPLICATE_ORDER', // Duplicate of a verbally communicated order
  '8': 'TOO_LATE', // Stale order
  '9': 'OTHER', // Trade along required
  '10': 'ACCOUNT_UNKNOWN', // Invalid investor ID
  '11': 'ORDER_INVALID', // Unsupported order characteristic
  '12': 'OTHER', // Surveillance option
  '13': 'QTY_INVALID', // Incorrect quantity
  '14': 'QTY_INVALID', // Incorrect allocated quantity
  '15': 'ACCOUNT_UNKNOWN', // Unknown account(s)
  '16': 'PRICE_OUT_OF_BAND', // Price exceeds current price band (FIX 5.0)
  '18': 'PRICE_INVALID', // Invalid price increment (FIX 5.0)
  '99': 'OTHER',
}

export const CXL_REJ_REASON_CODES: Readonly<Record<string, VenueRejectCode>> = {
  '0': 'TOO_LATE', // Too late to cancel
  '1': 'ORDER_UNKNOWN', // Unknown order
  '2': 'OTHER', // Broker / Exchange option
  '3': 'ORDER_PENDING', // Order already in Pending Cancel or Pending Replace status
  '4': 'OTHER', // Unable to process Order Mass Cancel Request
  '5': 'OTHER', // OrigOrdModTime did not match the order's last TransactTime
  '6': 'DUPLICATE_ORDER', // Duplicate ClOrdID received
  '7': 'PRICE_OUT_OF_BAND', // Price exceeds current price (FIX 5.0)
  '8': 'PRICE_OUT_OF_BAND', // Price exceeds current price band (FIX 5.0)
  '18': 'PRICE_INVALID', // Invalid price increment (FIX 5.0)
  '99': 'OTHER',
}

/** The lead of a reason text that carries OrdRejReason `value`: `OrdRejReason <value>`. */
export function ordRejReasonLead(value: string): string {
  return `OrdRejReason ${value}`
}

/** The lead of a reason text that carries CxlRejReason `value`: `CxlRejReason <value>`. */
export function cxlRejReasonLead(value: string): string {
  return `CxlRejReason ${value}`
}

const LEAD = /^(OrdRejReason|CxlRejReason) ([0-9]{1,6})$/

/** The code of one segment of a reason text that is such a lead; null when it is not one. */
export function fixRejectCodeOf(segment: string): VenueRejectCode | null {
  const match = LEAD.exec(segment)
  if (match === null) return null
  const table = match[1] === 'OrdRejReason' ? ORD_REJ_REASON_CODES : CXL_REJ_REASON_CODES
  return Object.hasOwn(table, match[2] as string) ? (table[match[2] as string] as VenueRejectCode) : 'OTHER'
}
