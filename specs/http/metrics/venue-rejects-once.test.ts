/**
 * One refusal of a place by the venue counts once in egress_venue_rejects_total and once in
 * egress_order_rejects_total{reason="VENUE_REJECTED"}, however its two tellings (the place call's `rejected` answer
 * and the reject report) land. The metrics count records, and a report after the answer recorded a second
 * `order.venue_rejected` (kernel/inbox.ts), so it counted twice; now the kernel records the refusal once.
 */

import { expect, test } from 'bun:test'
import { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import { Harness, report } from '../../kernel/fixtures.ts'
import { sample } from './observed.ts'

const REASON = 'post_only_would_cross'

/** The records of one order the venue refuses, its answer and its report landing in `first` order. */
function refusedOnce(first: 'answer' | 'report'): Harness {
  const harness = Harness.funded()
  const orderId = harness.placedId()
  harness.send(orderId)
  const answer = () => harness.placeResult(orderId, { kind: 'rejected', reason: REASON })
  const reject = () => harness.report(report(harness.order(orderId), { kind: 'rejected', execId: 'rej-1', reason: REASON }))
  if (first === 'answer') {
    answer()
    reject()
  } else {
    reject()
    answer()
  }
  return harness
}

for (const first of ['answer', 'report'] as const) {
  test(`a refusal told by the answer and the report (${first} first) counts once in both reject counters`, () => {
    const metrics = new GatewayMetrics()
    metrics.observe(refusedOnce(first).log)
    expect(sample(metrics, 'egress_venue_rejects_total', { action: 'place', code: 'POST_ONLY_WOULD_CROSS' })).toBe(1)
    expect(sample(metrics, 'egress_order_rejects_total', { reason: 'VENUE_REJECTED' })).toBe(1)
  })
}
