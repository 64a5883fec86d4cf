/**
 * A fill report whose cumulative quantity is below its own quantity contradicts itself: the kernel cannot place it
 * against a synthetic fill (synthetic-cover.ts reads the fill's venue range from the two), so it booked the fill whole
 * on top of the synthetic fill that stood for it — the same quantity twice. It is refused now: an alert, the order
 * Unknown, so reconciliation finds out what is true.
 */

import { expect, test } from 'bun:test'
import { d, Harness } from './fixtures.ts'
import { realFillReport, statusOnlyReconcile, unknownOrder } from './venue-fixtures.ts'

test('a fill whose cumQty is below its lastQty is not booked over the synthetic fill it stands for', () => {
  const harness = Harness.funded()
  const orderId = unknownOrder(harness)
  statusOnlyReconcile(harness, orderId, '0.05')
  expect(harness.order(orderId).cumQty).toBe(d('0.05'))
  const decision = realFillReport(harness, orderId, { execId: 'real-1', lastQty: '0.05', cumQty: '0.01' })
  expect(harness.order(orderId).cumQty).toBe(d('0.05'))
  expect(harness.order(orderId).status).toBe('Unknown')
  expect(decision.events.some((event) => event.type === 'alert.raised' && event.reason === 'FILL_NOT_MONOTONIC')).toBe(true)
  expect(decision.events.some((event) => event.type === 'order.fill' || event.type === 'order.fill_covered')).toBe(false)
})

test('the same fill stating a consistent cumQty is placed against the synthetic fill, not booked twice', () => {
  const harness = Harness.funded()
  const orderId = unknownOrder(harness)
  statusOnlyReconcile(harness, orderId, '0.05')
  realFillReport(harness, orderId, { execId: 'real-1', lastQty: '0.05', cumQty: '0.05' })
  expect(harness.order(orderId).cumQty).toBe(d('0.05'))
})
