/**
 * The gateway's checks of venue input bound what the kernel derives from the figures and records, not only each figure
 * (src/domain/recordable-amounts.ts): a fill's cash (quantity × price), the synthetic fill a read-back's status implies,
 * and the running total of a read-back's trade quantities. At the bound a report or answer is taken; one unit of
 * product past it, it is refused with the stable code (VENUE_REPORT_INVALID, VENUE_ANSWER_INVALID).
 */

import { describe, expect, test } from 'bun:test'
import { FILL_PRODUCT_MAX, fillCashRecordable, RECORD_UNITS_MAX } from '../../src/domain/recordable-amounts.ts'
import { invalidReadBackOf } from '../../src/runtime/read-back-check.ts'
import { invalidReportOf } from '../../src/runtime/report-check.ts'
import type { ExecutionReport, VenueOrder, VenueTrade } from '../../src/venues/adapter.ts'

const BTC = 100_000_000n

const FILL: ExecutionReport = {
  venue: 'sim', execId: 'x-1', kind: 'fill', clientOrderId: 'c-1', venueOrderId: 'v-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy',
  cumQty: BTC, lastQty: BTC, lastPrice: RECORD_UNITS_MAX, venueTimeMs: 1,
}
const ORDER: VenueOrder = { clientOrderId: 'c-1', venueOrderId: 'v-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy', qty: 2n * BTC, cumQty: BTC, price: RECORD_UNITS_MAX, status: 'partially_filled' }
const TRADE: VenueTrade = {
  execId: 'x-1', clientOrderId: 'c-1', venueOrderId: 'v-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy',
  qty: BTC, price: RECORD_UNITS_MAX, fee: 0n, feeAsset: 'USD', liquidity: 'maker', venueTimeMs: 1,
}

describe('the bound on a fill cash', () => {
  test('is the product whose cash, rounded up, is the largest amount a record holds', () => {
    expect(fillCashRecordable(BTC, RECORD_UNITS_MAX)).toBe(true)
    expect(fillCashRecordable(BTC + 1n, RECORD_UNITS_MAX)).toBe(false)
    expect(fillCashRecordable(1n, FILL_PRODUCT_MAX)).toBe(true)
    expect(fillCashRecordable(1n, FILL_PRODUCT_MAX + 1n)).toBe(false)
    // Any split of the digits: a quantity of 10^12 at a price of 10^-8 fits as well as 1 at 10^20 − 10^-8.
    expect(fillCashRecordable(10n ** 12n * BTC, 1n)).toBe(true)
  })
})

describe('a venue report', () => {
  test('whose lastQty × lastPrice is exactly at the bound is taken', () => {
    expect(invalidReportOf(FILL)).toBeNull()
  })

  test('whose lastQty × lastPrice is past the bound is refused with VENUE_REPORT_INVALID', () => {
    const refused = invalidReportOf({ ...FILL, lastQty: BTC + 1n, cumQty: BTC + 1n })
    expect(refused?.code).toBe('VENUE_REPORT_INVALID')
    expect(refused?.message).toContain('report.lastPrice: lastQty × lastPrice is beyond the cash a record can hold')
  })
})

describe('a read-back answer', () => {
  test('at every bound is taken', () => {
    expect(invalidReadBackOf('sim', 'c-1', { venueOrder: ORDER, trades: [TRADE] })).toBeNull()
    const half = { ...TRADE, qty: RECORD_UNITS_MAX / 2n, price: 1n }
    expect(invalidReadBackOf('sim', 'c-1', { venueOrder: null, trades: [half, { ...half, execId: 'x-2', qty: RECORD_UNITS_MAX - half.qty }] })).toBeNull()
  })

  const past: [string, Parameters<typeof invalidReadBackOf>[2], string][] = [
    ['a trade whose qty × price is past the bound', { venueOrder: null, trades: [{ ...TRADE, qty: BTC + 1n }] }, 'trades.0.price: qty × price is beyond'],
    ['a status whose cumQty × price is past the bound', { venueOrder: { ...ORDER, cumQty: BTC + 1n }, trades: [] }, 'venueOrder.price: cumQty × price is beyond'],
    [
      'trades whose quantities add up past the largest amount a record holds',
      { venueOrder: null, trades: [{ ...TRADE, qty: RECORD_UNITS_MAX, price: 1n }, { ...TRADE, execId: 'x-2', qty: 1n, price: 1n }] },
      'trades.1.qty: the trades\' quantities add up past',
    ],
  ]
  for (const [name, answer, problem] of past) {
    test(`with ${name} is refused with VENUE_ANSWER_INVALID`, () => {
      const refused = invalidReadBackOf('sim', 'c-1', answer)
      expect(refused?.code).toBe('VENUE_ANSWER_INVALID')
      expect(refused?.message).toContain(problem)
    })
  }
})
