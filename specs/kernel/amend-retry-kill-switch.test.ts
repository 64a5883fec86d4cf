/**
 * An amend in flight when a kill switch engages, answered retryable (the venue did nothing), is not sent again: under
 * HALT or CANCEL_ONLY no amend goes out, and one the operator's switch caught mid-flight must not wait in Lane2 to go
 * out on RESUME as if it had just been asked for. It fails (`order.amend_failed`, the switch's reason), its extra
 * reservation is released, and the order stays as the venue holds it. Before, it went back to Lane2 (send_retry) and
 * was sent at RESUME.
 */

import { describe, expect, test } from 'bun:test'
import { d, Harness, ops } from './fixtures.ts'

const oldCost = d('5000') + d('5') // 0.1 BTC × 50000 + 10 bps

function amendInFlight(harness: Harness): string {
  const orderId = harness.openOrder()
  expect(harness.amend(orderId, { qty: '0.2' }).reply.kind).toBe('amend_accepted')
  harness.send(orderId, 'amend')
  return orderId
}

describe('an amend answered retryable under a kill switch', () => {
  for (const [action, reason] of [['HALT', 'KILL_SWITCH_HALT'], ['CANCEL_ONLY', 'KILL_SWITCH_CANCEL_ONLY']] as const) {
    test(`${action}: the amend fails with ${reason}, the order stands, nothing is sent at RESUME`, () => {
      const harness = Harness.funded()
      const orderId = amendInFlight(harness)
      harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action, note: 'test' })
      const decision = harness.amendResult(orderId, { kind: 'retryable', reason: 'rate_limited', retryAfterMs: 0 })
      expect(harness.eventTypes(decision)).toEqual(['order.amend_failed', 'order.call_completed'])
      expect(decision.events[0]).toMatchObject({ reason })
      expect(harness.order(orderId)).toMatchObject({ status: 'AckedOpen', qty: d('0.1'), amend: { stage: 'failed' } })
      expect(harness.reserved('USD')).toBe(oldCost)
      harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'RESUME', note: 'test' })
      expect(harness.next()).toBeNull()
    })
  }

  test('without a switch the retryable amend still goes back to Lane2', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    harness.amendResult(orderId, { kind: 'retryable', reason: 'rate_limited', retryAfterMs: 0 })
    expect(harness.next()).toMatchObject({ kind: 'amend', orderId })
  })
})
