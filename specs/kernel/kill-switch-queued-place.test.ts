/**
 * A new order accepted and not yet sent when HALT or CANCEL_ONLY engages is ended by the switch, like a waiting amend
 * (kill-switch-queued-amend.test.ts): it does not wait in its lane to go out at RESUME. One never sent is canceled on
 * the spot (its reservation released); one sent before goes Unknown with the cancel wanted and is read back; a place in
 * flight answered retryable under the switch goes the same way instead of back to its lane. Flatten's closes are never
 * ended by a switch. Before, every such order was held and sent at RESUME.
 */

import { describe, expect, test } from 'bun:test'
import { ACCOUNT, d, Harness, market, ops, resentOrder } from './fixtures.ts'

function killSwitch(harness: Harness, action: 'HALT' | 'CANCEL_ONLY' | 'RESUME') {
  return harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action, note: 'test' })
}

describe('a new order waiting to be sent when a kill switch engages', () => {
  for (const [action, reason] of [['HALT', 'KILL_SWITCH_HALT'], ['CANCEL_ONLY', 'KILL_SWITCH_CANCEL_ONLY']] as const) {
    test(`${action}: one never sent is canceled with ${reason} in the switch's decision, its reservation released`, () => {
      const harness = Harness.funded()
      const buy = harness.placedId({ client_order_id: 'b', qty: '0.1' })
      const reduceOnly = harness.placedId({ client_order_id: 'r', side: 'sell', qty: '0.1', price: '50500', reduce_only: true })
      expect(harness.order(reduceOnly).lane).toBe(1)
      const decision = killSwitch(harness, action)
      expect(harness.eventTypes(decision)).toEqual(['order.canceled', 'order.canceled', 'switch.changed'])
      for (const orderId of [buy, reduceOnly]) expect(harness.order(orderId)).toMatchObject({ status: 'Canceled', lastReason: reason })
      expect(harness.reserved('USD')).toBe(0n)
      expect(harness.reserved('BTC')).toBe(0n)
      killSwitch(harness, 'RESUME')
      expect(harness.next()).toBeNull()
    })
  }

  test('one sent before (a resend) goes Unknown with the cancel wanted: an earlier copy may be at the venue', () => {
    const harness = Harness.funded()
    const orderId = resentOrder(harness)
    killSwitch(harness, 'HALT')
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true, lastReason: 'KILL_SWITCH_HALT' })
    expect(harness.next()).not.toMatchObject({ kind: 'place' })
  })

  test('a place in flight answered retryable under the switch is read back, not queued for RESUME', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    expect(harness.eventTypes(killSwitch(harness, 'HALT'))).toEqual(['switch.changed'])
    const answer = harness.placeResult(orderId, { kind: 'retryable', reason: 'throttled', retryAfterMs: 0 })
    expect(harness.eventTypes(answer)).toEqual(['order.unknown', 'order.cancel_requested', 'order.call_completed'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true, lastReason: 'KILL_SWITCH_HALT' })
    killSwitch(harness, 'RESUME')
    expect(harness.next()).not.toMatchObject({ kind: 'place' })
  })

  test('without a switch a retryable place still goes back to its lane', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'retryable', reason: 'throttled', retryAfterMs: 0 })
    expect(harness.next()).toMatchObject({ kind: 'place', orderId })
  })

  test("flatten's closes are untouched: CANCEL_ONLY holds them until RESUME, a later HALT sends them", () => {
    const harness = Harness.funded()
    killSwitch(harness, 'CANCEL_ONLY')
    harness.run({ kind: 'flatten', nowMs: harness.nowMs, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: { 'sim:BTC-USD': market('50000') } })
    const close = [...harness.state.orders.values()].find((order) => order.flattenId === 'f-1')
    expect(close).toMatchObject({ status: 'Enqueued', lane: 0, qty: d('2') })
    expect(harness.eventTypes(killSwitch(harness, 'HALT'))).toEqual(['switch.changed'])
    expect(harness.next()).toMatchObject({ kind: 'place', orderId: close?.orderId })
    harness.send(close?.orderId ?? '')
    expect(harness.placeResult(close?.orderId ?? '', { kind: 'retryable', reason: 'throttled', retryAfterMs: 0 }).events[0]?.type).toBe('order.send_retry')
  })
})
