/**
 * An amend accepted and not yet sent when HALT or CANCEL_ONLY engages fails as the switch engages, with the switch's
 * reason, recorded in the same decision as the switch: it does not wait in Lane2 to go out at RESUME. The order stands
 * at its old terms and the amend's extra reservation is released. Cancels are untouched. Before, the amend was held and
 * sent at RESUME.
 */

import { describe, expect, test } from 'bun:test'
import { applyInPlace } from '../../src/kernel/index.ts'
import { initialState } from '../../src/kernel/state.ts'
import { d, Harness, ops } from './fixtures.ts'

const oldCost = d('5000') + d('5') // 0.1 BTC × 50000 + 10 bps

function killSwitch(harness: Harness, action: 'HALT' | 'CANCEL_ONLY' | 'RESUME') {
  return harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action, note: 'test' })
}

describe('an amend waiting to be sent when a kill switch engages', () => {
  for (const [action, reason] of [['HALT', 'KILL_SWITCH_HALT'], ['CANCEL_ONLY', 'KILL_SWITCH_CANCEL_ONLY']] as const) {
    test(`${action}: fails with ${reason} in the switch's decision; the order stands; nothing goes out at RESUME`, () => {
      const harness = Harness.funded()
      const orderId = harness.openOrder()
      expect(harness.amend(orderId, { qty: '0.2' }).reply.kind).toBe('amend_accepted')
      expect(harness.reserved('USD')).toBe(2n * oldCost)
      const decision = killSwitch(harness, action)
      expect(harness.eventTypes(decision)).toEqual(['order.amend_failed', 'switch.changed'])
      expect(decision.events[0]).toMatchObject({ orderId, amendId: 1, reason })
      expect(harness.order(orderId)).toMatchObject({ status: 'AckedOpen', qty: d('0.1'), price: d('50000'), lastReason: reason, amend: { stage: 'failed' } })
      // The amend's extra worst case is released: the order holds its own again.
      expect(harness.reserved('USD')).toBe(oldCost)
      expect(harness.next()).toBeNull()
      killSwitch(harness, 'RESUME')
      expect(harness.next()).toBeNull()
    })
  }

  test('an amend back in Lane2 after a retryable answer (the venue did nothing) fails too', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.amend(orderId, { price: '49000' })
    harness.send(orderId, 'amend')
    harness.amendResult(orderId, { kind: 'retryable', reason: 'rate_limited', retryAfterMs: 0 })
    expect(harness.order(orderId).amend).toMatchObject({ stage: 'requested', attempts: 1 })
    const decision = killSwitch(harness, 'HALT')
    expect(decision.events[0]).toMatchObject({ type: 'order.amend_failed', reason: 'KILL_SWITCH_HALT' })
    killSwitch(harness, 'RESUME')
    expect(harness.next()).toBeNull()
  })

  test('an amend already at the venue is left to its answer; cancels still go; a switch already engaged changes nothing', () => {
    const harness = Harness.funded()
    const inFlight = harness.openOrder({ client_order_id: 'a' })
    const toCancel = harness.openOrder({ client_order_id: 'b' })
    harness.amend(inFlight, { qty: '0.2' })
    harness.send(inFlight, 'amend')
    harness.cancel(toCancel)
    expect(harness.eventTypes(killSwitch(harness, 'HALT'))).toEqual(['switch.changed'])
    expect(harness.order(inFlight).amend).toMatchObject({ stage: 'sent' })
    expect(harness.next()).toMatchObject({ kind: 'cancel', orderId: toCancel })
    expect(harness.eventTypes(killSwitch(harness, 'CANCEL_ONLY'))).toEqual(['switch.changed'])
    harness.amendResult(inFlight, { kind: 'ok', value: { accepted: true } })
    expect(harness.order(inFlight).qty).toBe(d('0.2'))
  })

  test('replaying the log gives the same order and reservations', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.amend(orderId, { qty: '0.2' })
    killSwitch(harness, 'HALT')
    const replayed = initialState()
    harness.log.forEach((event, index) => applyInPlace(replayed, event, { lsn: index + 1 }))
    expect(replayed.orders.get(orderId)).toEqual(harness.order(orderId))
    expect(replayed.accounts).toEqual(harness.state.accounts)
  })
})
