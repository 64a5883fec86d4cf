/**
 * Reconciliation answers carrying a price of zero or below (a FIX status report of a market order carries Price 0;
 * a trade list from a broken venue): nothing is booked at that price. Before, a status-only read-back booked its
 * synthetic fill at the venue's Price 0, and a trade at price 0 was booked as it came: `order.fill` with lastPrice 0
 * went into the log, which cannot read it back (the next start failed on replay).
 */

import { describe, expect, test } from 'bun:test'
import { d, Harness } from './fixtures.ts'
import { statusOnlyReconcile, unknownOrder, venueOrderOf, venueTradeOf } from './venue-fixtures.ts'

describe('reconciliation answers with a price of zero or below', () => {
  test('a status-only read-back stating price 0 books its synthetic fill at the order price', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    harness.nowMs += 5_000
    const venueOrder = venueOrderOf(harness, orderId, { cumQty: d('0.05'), status: 'partially_filled', price: 0n })
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 20, orderId, venueOrder, trades: [] })
    const fill = harness.log.find((event) => event.type === 'order.fill')
    expect(fill).toMatchObject({ synthetic: true, lastQty: d('0.05'), lastPrice: d('50000') })
    expect(harness.order(orderId).cumQty).toBe(d('0.05'))
  })

  for (const price of [0n, -d('1')]) {
    test(`a trade at price ${price} is not booked: an alert, and the venue's cumQty is booked as a synthetic fill at the order price`, () => {
      const harness = Harness.funded()
      const orderId = unknownOrder(harness)
      harness.nowMs += 5_000
      const venueOrder = venueOrderOf(harness, orderId, { cumQty: d('0.05'), status: 'partially_filled' })
      harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 20, orderId, venueOrder, trades: [venueTradeOf(harness, orderId, 't1', '0.05', { price })] })
      expect(harness.log.some((event) => event.type === 'order.fill' && event.lastPrice <= 0n)).toBe(false)
      expect(harness.log.some((event) => event.type === 'alert.raised' && event.reason === 'FILL_NOT_MONOTONIC' && event.detail.includes('t1'))).toBe(true)
      expect(harness.log.find((event) => event.type === 'order.fill')).toMatchObject({ synthetic: true, lastPrice: d('50000') })
    })
  }

  test('the usual status-only read-back still books at the venue price', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    statusOnlyReconcile(harness, orderId, '0.05')
    expect(harness.order(orderId).cumQty).toBe(d('0.05'))
  })
})
