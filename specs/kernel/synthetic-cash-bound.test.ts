/**
 * Synthetic cash pending past what a record holds. Each status-only read-back books a synthetic fill at the venue's
 * price, its cash rounded up against the account, and the order keeps the sum pending until the real fills true it up
 * (order.fill_trued_up `syntheticCash`). The gateway bounds each answer's cumQty × price (read-back-check.ts), but not
 * the sum over answers: two answers, 0.5 and then 1 BTC at the largest price a record holds, each pass that bound and
 * add up to one unit past it, and the covering fill's true-up made the log's writer assert (kernel/reconcile.ts).
 */

import { expect, test } from 'bun:test'
import { UNIT, type Units } from '../../src/domain/decimal.ts'
import { RECORD_UNITS_MAX } from '../../src/domain/recordable-amounts.ts'
import type { Decision } from '../../src/kernel/index.ts'
import { invalidReadBackOf } from '../../src/runtime/read-back-check.ts'
import { d, Harness } from './fixtures.ts'
import { realFillReport, venueOrderOf } from './venue-fixtures.ts'

function statusAt(harness: Harness, orderId: string, cumQty: string, price: Units = RECORD_UNITS_MAX): Decision {
  harness.nowMs += 5_000
  const venueOrder = venueOrderOf(harness, orderId, { venueOrderId: `v-${orderId}`, cumQty: d(cumQty), status: 'partially_filled', price })
  // The gateway's check of one answer lets each of them through: the product fits, exactly at the bound for 1 BTC.
  expect(invalidReadBackOf('sim', 'c1', { venueOrder, trades: [] })).toBeNull()
  return harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 20, orderId, venueOrder, trades: [] })
}

/** The largest price at which `cumQty` of the order passes the gateway's check of one answer. */
function largestPriceFor(cumQty: string): Units {
  return (RECORD_UNITS_MAX * UNIT) / d(cumQty)
}

test('a synthetic fill that would take the synthetic cash pending past what a record holds is alerted, not booked', () => {
  const harness = Harness.funded()
  const orderId = harness.openOrder({ qty: '1' })
  statusAt(harness, orderId, '0.5')
  // ⌈0.5 × 99,999,999,999,999,999,999.99999999⌉ in units: half of 10^28.
  expect(harness.order(orderId).syntheticPendingCash).toBe(5n * 10n ** 27n)
  statusAt(harness, orderId, '1')
  // The real fill of the whole order trues up what was booked synthetically (before: its true-up's syntheticCash was
  // 10^28, and Harness.run, which encodes each event as the engine does, threw the log writer's AssertionError).
  const pendingBefore = harness.order(orderId).syntheticPendingCash
  const cumQtyBefore = harness.order(orderId).cumQty
  realFillReport(harness, orderId, { execId: 'real-1', lastQty: '1', cumQty: '1' })
  expect(pendingBefore).toBe(5n * 10n ** 27n)
  expect(cumQtyBefore).toBe(d('0.5'))
  const alerts = harness.log.filter((event) => event.type === 'alert.raised' && event.reason === 'RECONCILE_SYNTHETIC_FILL')
  expect(alerts.length).toBe(1)
  expect(harness.log.filter((event) => event.type === 'alert.raised' && event.reason === 'RECONCILE_SYNTHETIC_UNRECORDABLE')).toMatchObject([
    { detail: expect.stringContaining('not booked') },
  ])
  expect(harness.log.find((event) => event.type === 'order.fill_trued_up')).toMatchObject({ qty: d('0.5'), syntheticCash: 5n * 10n ** 27n })
  expect(harness.order(orderId).cumQty).toBe(d('1'))
  expect(harness.order(orderId).syntheticPendingQty).toBe(0n)
})

test('synthetic cash pending up to the largest amount a record holds is booked', () => {
  const harness = Harness.funded()
  const orderId = harness.openOrder({ qty: '1' })
  statusAt(harness, orderId, '1')
  expect(harness.order(orderId).syntheticPendingCash).toBe(RECORD_UNITS_MAX)
  realFillReport(harness, orderId, { execId: 'real-1', lastQty: '1', cumQty: '1' })
  expect(harness.log.find((event) => event.type === 'order.fill_trued_up')).toMatchObject({ qty: d('1'), syntheticCash: RECORD_UNITS_MAX })
})

test('a declined synthetic fill is alerted once: a read-back stating the same again adds nothing, one stating another is alerted', () => {
  const harness = Harness.funded()
  const orderId = harness.openOrder({ side: 'sell', qty: '2' })
  // Half the order at the largest price: the pending cash is the bound itself, so any more is declined.
  statusAt(harness, orderId, '1')
  expect(harness.order(orderId).syntheticPendingCash).toBe(RECORD_UNITS_MAX)
  const declined = statusAt(harness, orderId, '1.5', largestPriceFor('1.5'))
  expect(declined.events.map((event) => (event.type === 'alert.raised' ? event.reason : event.type))).toEqual(['RECONCILE_SYNTHETIC_UNRECORDABLE', 'order.synthetic_declined'])
  expect(harness.order(orderId)).toMatchObject({ cumQty: d('1'), syntheticDeclinedCumQty: d('1.5'), status: 'Partial' })
  // The sweep reads the order back as long as it differs from the venue's view: before, each read-back alerted again.
  for (let repeat = 0; repeat < 3; repeat++) expect(statusAt(harness, orderId, '1.5', largestPriceFor('1.5')).events).toEqual([])
  // The venue moving on is news: alerted, and recorded.
  const moved = statusAt(harness, orderId, '1.8', largestPriceFor('1.8'))
  expect(moved.events).toMatchObject([
    { type: 'alert.raised', reason: 'RECONCILE_SYNTHETIC_UNRECORDABLE', detail: expect.stringContaining('venue cumQty 1.8, trades explain 1;') },
    { type: 'order.synthetic_declined', venueCumQty: d('1.8'), price: largestPriceFor('1.8') },
  ])
  expect(statusAt(harness, orderId, '1.8', largestPriceFor('1.8')).events).toEqual([])
  expect(harness.log.filter((event) => event.type === 'alert.raised' && event.reason === 'RECONCILE_SYNTHETIC_UNRECORDABLE').length).toBe(2)
})
