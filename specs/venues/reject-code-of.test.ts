/**
 * The venue reject code of a recorded venue reason text (src/venues/reject-code-of.ts): each venue's codes map to
 * their class, FIX's numeric reasons by their table, adapter wrappers are passed over, and any text without a code
 * egress knows is OTHER — old records' texts included.
 */

import { describe, expect, test } from 'bun:test'
import { VENUE_REJECT_CODE_NAMES } from '../../src/domain/venue-reject-codes.ts'
import { VenueReason } from '../../src/domain/venue-reasons.ts'
import { FixReason } from '../../src/venues/fix/reasons.ts'
import { JsonlReason, withDetail } from '../../src/venues/jsonl/reasons.ts'
import { venueRejectCodeOf } from '../../src/venues/reject-code-of.ts'
import { SimReason } from '../../src/venues/sim/reasons.ts'

describe('venueRejectCodeOf', () => {
  test("the sim venue's reject reasons map to their codes", () => {
    expect(
      [
        SimReason.postOnlyWouldCross, SimReason.invalidPrice, SimReason.invalidQuantity, SimReason.invalidOrder, SimReason.unknownSymbol,
        SimReason.venueOrderLimit, SimReason.reduceOnlyWouldIncrease, SimReason.duplicateClientOrderId, SimReason.unknownOrder,
        SimReason.tooLateToCancel, SimReason.tooLateToAmend, SimReason.rateLimited,
      ].map(venueRejectCodeOf),
    ).toEqual([
      'POST_ONLY_WOULD_CROSS', 'PRICE_INVALID', 'QTY_INVALID', 'ORDER_INVALID', 'INSTRUMENT_UNKNOWN',
      'LIMIT_EXCEEDED', 'REDUCE_ONLY_WOULD_INCREASE', 'DUPLICATE_ORDER', 'ORDER_UNKNOWN',
      'TOO_LATE', 'TOO_LATE', 'RATE_LIMITED',
    ])
  })

  test("the JSONL server's own refusals map by their code, whatever detail follows", () => {
    expect(venueRejectCodeOf(withDetail(JsonlReason.requestInvalid, 'qty: expected a decimal'))).toBe('ORDER_INVALID')
    expect(venueRejectCodeOf(JsonlReason.opUnknown)).toBe('ORDER_INVALID')
    expect(venueRejectCodeOf(`${SimReason.postOnlyWouldCross}: best ask 50000`)).toBe('POST_ONLY_WOULD_CROSS')
  })

  test("FIX: OrdRejReason and CxlRejReason decide after the adapter's wrapper, in the outcome and in the report", () => {
    expect(venueRejectCodeOf(`${FixReason.venueRejected}: OrdRejReason 16: price band`)).toBe('PRICE_OUT_OF_BAND')
    expect(venueRejectCodeOf('OrdRejReason 1: no such symbol')).toBe('INSTRUMENT_UNKNOWN')
    expect(venueRejectCodeOf('OrdRejReason 2')).toBe('MARKET_CLOSED')
    expect(venueRejectCodeOf('OrdRejReason 3: credit')).toBe('LIMIT_EXCEEDED')
    expect(venueRejectCodeOf('OrdRejReason 13')).toBe('QTY_INVALID')
    expect(venueRejectCodeOf('OrdRejReason 15')).toBe('ACCOUNT_UNKNOWN')
    expect(venueRejectCodeOf(`${FixReason.cancelRejected}: CxlRejReason 0: too late to cancel`)).toBe('TOO_LATE')
    expect(venueRejectCodeOf('CxlRejReason 3')).toBe('ORDER_PENDING')
    expect(venueRejectCodeOf(`${FixReason.cancelRejected}: ${VenueReason.unknownOrder}`)).toBe('ORDER_UNKNOWN')
    // A value no table lists, and the "other" values, are OTHER.
    expect(venueRejectCodeOf('OrdRejReason 77: new in FIX 9')).toBe('OTHER')
    expect(venueRejectCodeOf('OrdRejReason 99: other')).toBe('OTHER')
    expect(venueRejectCodeOf(`${FixReason.businessReject}: BusinessRejectReason 3: unsupported`)).toBe('OTHER')
  })

  test('records written before the FIX adapter led with OrdRejReason: a bare number after fix_order_rejected is read, free text is OTHER', () => {
    expect(venueRejectCodeOf(`${FixReason.venueRejected}: 4`)).toBe('TOO_LATE')
    expect(venueRejectCodeOf(`${FixReason.venueRejected}: insufficient funds`)).toBe('OTHER')
    // A bare number alone (an old report's reason) could be any venue's: not guessed.
    expect(venueRejectCodeOf('4')).toBe('OTHER')
  })

  test('unknown text, an empty reason and a code that only appears after free text are OTHER', () => {
    expect(venueRejectCodeOf('the venue is not amused')).toBe('OTHER')
    expect(venueRejectCodeOf('')).toBe('OTHER')
    expect(venueRejectCodeOf(`something odd: ${SimReason.postOnlyWouldCross}`)).toBe('OTHER')
    expect(venueRejectCodeOf('Post_Only_Would_Cross')).toBe('OTHER')
  })

  test('every code of the vocabulary is one some reason text gives', () => {
    const texts = [
      'insufficient_funds', SimReason.postOnlyWouldCross, SimReason.invalidPrice, 'price_out_of_band', SimReason.invalidQuantity, SimReason.invalidOrder,
      SimReason.unknownSymbol, 'market_closed', 'unknown_account', SimReason.venueOrderLimit, SimReason.reduceOnlyWouldIncrease,
      SimReason.duplicateClientOrderId, SimReason.unknownOrder, SimReason.tooLateToCancel, 'CxlRejReason 3', SimReason.rateLimited, 'x',
    ]
    expect(new Set(texts.map(venueRejectCodeOf))).toEqual(new Set(VENUE_REJECT_CODE_NAMES))
  })
})
