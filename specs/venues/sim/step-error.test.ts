// A price step runs in the clock's callback: a book error there on one order (a bug, e.g. a resting limit order with
// no price, which only a malformed resumed memory can hold) threw out of the callback — uncaught under the real clock
// — and, the step never rescheduled, the venue stopped stepping: no more fills, no DAY order expired by a step. Now
// the step skips the rest of that order's step (what it booked before the error is reported: book-error-reports),
// reports the error once through `onBookError`, and goes on with the other orders and the steps after.
import { expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import type { RestingOrder } from '../../../src/venues/sim/index.ts'
import { START_MS, harness, kinds, limit, okValue, within } from './fixture.ts'

/** A limit order resting with no price: a step reaching it throws 'resting order … has no price' in the book. */
const PRICELESS: RestingOrder = {
  venueOrderId: 'sim-o1',
  clientOrderIds: ['m1'],
  account: 'acct',
  symbol: 'BTC-USD',
  side: 'buy',
  type: 'limit',
  tif: 'GTC',
  postOnly: false,
  reduceOnly: false,
  qty: d('1'),
  cumQty: 0n,
  createdAtMs: START_MS - 1_000,
}

test('a book error in a price step is reported once, the order skipped, and the venue keeps stepping and answering', async () => {
  const errors: string[] = []
  const { clock, venue, reports } = harness({ dayOrderTtlMs: 1_000, onBookError: (message) => void errors.push(message) })
  venue.resume({ session: 's1', orders: [PRICELESS], ended: [], trades: [], unreported: [], balances: new Map() })
  // A DAY order resting below the price: only a price step expires it unread.
  const day = limit({ price: d('49000'), tif: 'DAY' })
  okValue(await within(clock, venue.place(day), 100))
  await clock.advanceAsync(2_000)
  expect(errors).toEqual(['price step: resting order sim-o1 has no price'])
  expect(kinds(reports.filter((report) => report.clientOrderId === day.clientOrderId))).toEqual(['new', 'expired'])
  expect(reports.some((report) => report.clientOrderId === 'm1')).toBe(false)
  // The venue answers: a crossing order fills.
  const taker = limit({ price: d('50000') })
  okValue(await within(clock, venue.place(taker), 1_000))
  expect(kinds(reports.filter((report) => report.clientOrderId === taker.clientOrderId))).toEqual(['new', 'fill'])
  expect(okValue(await within(clock, venue.orderStatus('m1'), 1_000))).toMatchObject({ status: 'open', cumQty: 0n })
})
