/**
 * A `rejected` report whose cumulative quantity is above what egress has booked contradicts itself: a venue does not
 * fill an order and then reject it. Taken as a reject, it ended the order Rejected with nothing booked and its
 * reservation released while the venue said it had filled (JSONL adversarial review). It is read as a `canceled` or
 * `expired` report stating such a quantity is: fills were lost, an alert, the order Unknown for reconciliation.
 */

import { expect, test } from 'bun:test'
import { d, Harness, report } from './fixtures.ts'
import { unknownOrder } from './venue-fixtures.ts'

test('a reject stating fills egress has not booked does not end the order: FILLS_MISSED, Unknown', () => {
  const harness = Harness.funded()
  const orderId = unknownOrder(harness)
  const decision = harness.report(report(harness.order(orderId), { kind: 'rejected', execId: 'rej-1', cumQty: d('0.05'), reason: 'no' }))
  expect(harness.order(orderId).status).toBe('Unknown')
  expect(decision.events.some((event) => event.type === 'order.venue_rejected')).toBe(false)
  expect(decision.events.some((event) => event.type === 'alert.raised' && event.reason === 'FILLS_MISSED')).toBe(true)
})

test('a reject stating no fills still ends the order Rejected', () => {
  const harness = Harness.funded()
  const orderId = unknownOrder(harness)
  harness.report(report(harness.order(orderId), { kind: 'rejected', execId: 'rej-1', cumQty: 0n, reason: 'no' }))
  expect(harness.order(orderId).status).toBe('Rejected')
})
