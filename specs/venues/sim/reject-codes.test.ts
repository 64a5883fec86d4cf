/**
 * The sim venue's refusals, from a real run of the venue, carry reasons that give their venue reject code
 * (src/venues/reject-code-of.ts): in the call's answer and in the reject report the kernel records.
 */

import { expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import type { VenueOutcome } from '../../../src/venues/adapter.ts'
import { venueRejectCodeOf } from '../../../src/venues/reject-code-of.ts'
import { harness, limit, okValue, within } from './fixture.ts'

function codeOf(outcome: VenueOutcome<unknown>): string {
  if (outcome.kind !== 'rejected') throw new Error(`expected rejected, got ${JSON.stringify(outcome)}`)
  return venueRejectCodeOf(outcome.reason)
}

test('place refusals of a sim run: post-only into a cross, an off-lot quantity, an off-tick price, an unknown symbol, reduce-only with no position', async () => {
  const { clock, venue, reports } = harness()
  expect(codeOf(await within(clock, venue.place(limit({ postOnly: true, price: d('50000') })), 20))).toBe('POST_ONLY_WOULD_CROSS')
  expect(codeOf(await within(clock, venue.place(limit({ qty: d('0.0001') })), 20))).toBe('QTY_INVALID')
  expect(codeOf(await within(clock, venue.place(limit({ price: d('50000.001') })), 20))).toBe('PRICE_INVALID')
  expect(codeOf(await within(clock, venue.place(limit({ symbol: 'DOGE-USD' })), 20))).toBe('INSTRUMENT_UNKNOWN')
  expect(codeOf(await within(clock, venue.place(limit({ side: 'buy', reduceOnly: true, price: d('49000') })), 20))).toBe('REDUCE_ONLY_WOULD_INCREASE')
  // The reject reports (what `order.venue_rejected` records when a report comes first) give the same codes.
  const rejected = reports.filter((report) => report.kind === 'rejected').map((report) => venueRejectCodeOf(report.reason ?? ''))
  expect(rejected).toContain('POST_ONLY_WOULD_CROSS')
  expect(rejected).not.toContain('OTHER')
})

test('cancel refusals of a sim run: an unknown order, and an order already filled', async () => {
  const { clock, venue } = harness()
  expect(codeOf(await within(clock, venue.cancel({ clientOrderId: 'x', origClientOrderId: 'nope', account: 'acct', symbol: 'BTC-USD' }), 20))).toBe('ORDER_UNKNOWN')
  const filled = limit({ price: d('51000') })
  okValue(await within(clock, venue.place(filled), 20))
  const late = await within(clock, venue.cancel({ clientOrderId: 'x2', origClientOrderId: filled.clientOrderId, account: 'acct', symbol: 'BTC-USD' }), 20)
  expect(codeOf(late)).toBe('TOO_LATE')
})
