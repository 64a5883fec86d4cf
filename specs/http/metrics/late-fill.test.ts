/**
 * A fill racing a cancel lands after the venue acknowledged the cancel (`order.cancel_acked`), or even after it
 * confirmed the cancel or an expiry (a late fill: kernel/state-machine.ts). Its accept → first-fill latency is still a
 * sample: the order's timing entry waits `lateFillWindowMs` (event time) for it, and then goes, so ended orders do not
 * hold timing slots for good. Reconcile answers that settle nothing yet (`order.reconcile_deferred`) are counted as an
 * outcome. Events are fed in as the engine hands them over (GatewayMetrics.observe), with their own times.
 */

import { expect, test } from 'bun:test'
import { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import { event, placedAndAcked, sample } from './observed.ts'

test('a fill racing a cancel, after the venue acked the cancel, gives its accept → first-fill sample', () => {
  const metrics = new GatewayMetrics()
  metrics.observe([
    ...placedAndAcked('o-1', 1_000),
    event('order.cancel_requested', 'o-1', 1_010),
    event('order.cancel_send_requested', 'o-1', 1_011),
    event('order.cancel_acked', 'o-1', 1_020),
    event('order.fill', 'o-1', 1_250),
  ])
  expect(sample(metrics, 'egress_order_accept_to_first_fill_seconds_count')).toBe(1)
  expect(sample(metrics, 'egress_order_accept_to_first_fill_seconds_sum')).toBe(0.25)
})

test('a late fill after the venue confirmed the cancel (or an expiry) is still timed', () => {
  const metrics = new GatewayMetrics()
  metrics.observe([
    ...placedAndAcked('o-1', 1_000),
    event('order.cancel_acked', 'o-1', 1_020),
    event('order.canceled', 'o-1', 1_030, { reason: 'CANCELED_BY_USER', source: 'venue' }),
    event('order.fill', 'o-1', 1_500),
    ...placedAndAcked('o-2', 2_000),
    event('order.expired', 'o-2', 2_100),
    event('order.fill', 'o-2', 3_000),
  ])
  expect(sample(metrics, 'egress_order_accept_to_first_fill_seconds_count')).toBe(2)
  expect(sample(metrics, 'egress_order_accept_to_first_fill_seconds_sum')).toBe(1.5)
})

test('an ended order waits for a late fill only lateFillWindowMs, then frees its slot for the next order', () => {
  const metrics = new GatewayMetrics({ trackedOrdersMax: 1, lateFillWindowMs: 5_000 })
  metrics.observe([...placedAndAcked('o-1', 1_000), event('order.cancel_acked', 'o-1', 1_100)])
  // Within the window the entry is held: an order accepted now is not timed (the bound is 1).
  metrics.observe([...placedAndAcked('o-2', 5_000)])
  expect(sample(metrics, 'egress_order_accept_to_sent_seconds_count')).toBe(1)
  // Past the window the entry is gone: a fill for o-1 now is not a sample, and the next order is timed again.
  metrics.observe([event('order.fill', 'o-1', 6_100), ...placedAndAcked('o-3', 6_200), event('order.fill', 'o-3', 6_300)])
  expect(sample(metrics, 'egress_order_accept_to_sent_seconds_count')).toBe(2)
  expect(sample(metrics, 'egress_order_accept_to_first_fill_seconds_count')).toBe(1)
  expect(sample(metrics, 'egress_order_accept_to_first_fill_seconds_sum')).toBe(0.1)
})

test('the oldest waiting order ended by its late fill, the next one still frees its slot when its own window ends', () => {
  const metrics = new GatewayMetrics({ trackedOrdersMax: 2, lateFillWindowMs: 5_000 })
  metrics.observe([...placedAndAcked('o-1', 1_000), event('order.cancel_acked', 'o-1', 1_100)])
  metrics.observe([...placedAndAcked('o-2', 2_000), event('order.expired', 'o-2', 3_000)])
  // o-1's late fill ends its entry: o-2 is now the oldest waiting, until 8 000.
  metrics.observe([event('order.fill', 'o-1', 3_500), ...placedAndAcked('o-3', 7_000)])
  expect(sample(metrics, 'egress_order_accept_to_sent_seconds_count')).toBe(3)
  // Two held (o-2, o-3): o-4 is not timed. Past o-2's window, o-5 is.
  metrics.observe([...placedAndAcked('o-4', 7_500), ...placedAndAcked('o-5', 8_000)])
  expect(sample(metrics, 'egress_order_accept_to_sent_seconds_count')).toBe(4)
  metrics.observe([event('order.fill', 'o-2', 8_100), event('order.fill', 'o-5', 8_200)])
  expect(sample(metrics, 'egress_order_accept_to_first_fill_seconds_count')).toBe(2)
})

test('an order rejected by the venue ends its timing at once', () => {
  const metrics = new GatewayMetrics({ trackedOrdersMax: 1, lateFillWindowMs: 60_000 })
  metrics.observe([...placedAndAcked('o-1', 1_000), event('order.venue_rejected', 'o-1', 1_100, { venueReason: 'x' }), ...placedAndAcked('o-2', 1_200)])
  expect(sample(metrics, 'egress_order_accept_to_sent_seconds_count')).toBe(2)
})

test('a deferred reconcile answer is counted in egress_reconcile_outcomes_total', () => {
  const metrics = new GatewayMetrics()
  metrics.observe([
    ...placedAndAcked('o-1', 1_000),
    event('order.unknown', 'o-1', 1_100, { reason: 'VENUE_OUTCOME_UNKNOWN', detail: 'timeout' }),
    event('order.reconcile_deferred', 'o-1', 1_200, { retryAtMs: 2_200 }),
    event('order.reconciled', 'o-1', 2_200, { to: 'AckedOpen', reason: 'RECONCILE_CONVERGED' }),
  ])
  expect(sample(metrics, 'egress_reconcile_outcomes_total', { state: 'deferred', reason: 'RECONCILE_DEFERRED' })).toBe(1)
  expect(sample(metrics, 'egress_reconcile_outcomes_total', { state: 'AckedOpen', reason: 'RECONCILE_CONVERGED' })).toBe(1)
})

test('a resting order filled minutes after its acceptance falls in a bucket of its own, not +Inf alone', () => {
  const metrics = new GatewayMetrics()
  metrics.observe([...placedAndAcked('o-1', 1_000), event('order.fill', 'o-1', 121_000)]) // 2 minutes
  const bucket = (le: string): number | undefined => sample(metrics, 'egress_order_accept_to_first_fill_seconds_bucket', { le })
  expect(bucket('60')).toBe(0)
  expect(bucket('300')).toBe(1)
  expect(bucket('3600')).toBe(1)
  // The other order paths keep their buckets (to 10 s).
  expect(sample(metrics, 'egress_order_accept_to_sent_seconds_bucket', { le: '60' })).toBeUndefined()
})
