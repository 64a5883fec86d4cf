/**
 * The upgrade edge of kill-switch-queued-place/-amend: a log written by a build from before those changes holds places
 * and amends that HALT or CANCEL_ONLY held in their lanes instead of ending them (its switch.changed came alone). This
 * build replays them as they were decided, still queued; RESUME then ends them as this build ends them when a switch
 * engages — in RESUME's decision, before its switch.changed, with the lifted switch's reason — instead of sending them
 * decided for a market long gone. Flatten's closes held under CANCEL_ONLY are not ended (they go at RESUME, as on this
 * build). The decision depends on the state alone, so a replayed state (a standby, a restart) decides the same.
 */

import { describe, expect, test } from 'bun:test'
import { decodeEvent, encodeEvent, type DomainEvent } from '../../src/domain/events/index.ts'
import { applyInPlace, decide } from '../../src/kernel/index.ts'
import { initialState } from '../../src/kernel/state.ts'
import { ACCOUNT, d, Harness, market, ops, resentOrder } from './fixtures.ts'

/** What an older build recorded for a switch: its switch.changed alone, the work waiting left queued. */
function olderBuildSwitch(harness: Harness, action: 'HALT' | 'CANCEL_ONLY'): void {
  const event: DomainEvent = { type: 'switch.changed', atMs: harness.nowMs, action, switch: action === 'HALT' ? 'halted' : 'cancel_only', principalId: ops.id, note: 'older build' }
  const decoded = decodeEvent(encodeEvent(event))
  applyInPlace(harness.state, decoded, { lsn: harness.state.lastLsn + 1 })
  harness.log.push(decoded)
}

function resume(harness: Harness) {
  return harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'RESUME', note: 'after the upgrade' })
}

describe('work an older build left held under a kill switch, at RESUME', () => {
  for (const [action, reason] of [['HALT', 'KILL_SWITCH_HALT'], ['CANCEL_ONLY', 'KILL_SWITCH_CANCEL_ONLY']] as const) {
    test(`${action}: a held place is canceled unsent and a held amend fails, with ${reason}, in RESUME's decision; nothing goes out`, () => {
      const harness = Harness.funded()
      const place = harness.placedId({ client_order_id: 'held-place', qty: '0.1' })
      const open = harness.openOrder({ client_order_id: 'open' })
      expect(harness.amend(open, { qty: '0.2' }).reply.kind).toBe('amend_accepted')
      olderBuildSwitch(harness, action)
      // As the older build left them: still queued, held by the switch.
      expect(harness.order(place).status).toBe('Enqueued')
      expect(harness.order(open).amend?.stage).toBe('requested')
      expect(harness.next()).toBeNull()
      const decision = resume(harness)
      // Both end before the switch lifts (in order id order), in the same decision.
      const types = harness.eventTypes(decision)
      expect(types.at(-1)).toBe('switch.changed')
      expect(types.slice(0, -1).sort()).toEqual(['order.amend_failed', 'order.canceled'])
      expect(harness.order(place)).toMatchObject({ status: 'Canceled', lastReason: reason })
      expect(harness.order(open)).toMatchObject({ status: 'AckedOpen', qty: d('0.1'), lastReason: reason, amend: { stage: 'failed' } })
      expect(harness.state.tradingSwitch).toBe('normal')
      // Nothing was sent: no work is due, and only the open order's own reservation is held.
      expect(harness.next()).toBeNull()
      expect(harness.reserved('USD')).toBe(d('5000') + d('5'))
    })
  }

  test('a held place sent before (a resend) goes Unknown with the cancel wanted and is read back, never sent again', () => {
    const harness = Harness.funded()
    const orderId = resentOrder(harness)
    olderBuildSwitch(harness, 'HALT')
    expect(harness.order(orderId).status).toBe('Enqueued')
    resume(harness)
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true, lastReason: 'KILL_SWITCH_HALT' })
    expect(harness.next()).not.toMatchObject({ kind: 'place' })
  })

  test("flatten's closes held under CANCEL_ONLY still go at RESUME, as on this build", () => {
    const harness = Harness.funded()
    olderBuildSwitch(harness, 'CANCEL_ONLY')
    harness.run({ kind: 'flatten', nowMs: harness.nowMs, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: { 'sim:BTC-USD': market('50000') } })
    const close = [...harness.state.orders.values()].find((order) => order.flattenId === 'f-1')
    expect(close).toMatchObject({ status: 'Enqueued', lane: 0, qty: d('2') })
    expect(harness.eventTypes(resume(harness))).toEqual(['switch.changed'])
    expect(harness.next()).toMatchObject({ kind: 'place', orderId: close?.orderId })
  })

  test('a state replayed from the log (a standby, a restart) decides the same RESUME', () => {
    const harness = Harness.funded()
    for (const id of ['c', 'a', 'b']) harness.placedId({ client_order_id: id, qty: '0.01' })
    olderBuildSwitch(harness, 'HALT')
    const replayed = initialState()
    harness.log.forEach((event, index) => applyInPlace(replayed, decodeEvent(encodeEvent(event)), { lsn: index + 1 }))
    const command = { kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'RESUME', note: 'after the upgrade' } as const
    const onReplayed = decide(replayed, command)
    const live = harness.run(command)
    expect(onReplayed.events).toEqual(live.events)
    expect(harness.eventTypes(live)).toEqual(['order.canceled', 'order.canceled', 'order.canceled', 'switch.changed'])
  })

  test("on this build's own log RESUME ends nothing: the switch ended the waiting work as it engaged", () => {
    const harness = Harness.funded()
    harness.placedId({ client_order_id: 'x', qty: '0.01' })
    expect(harness.eventTypes(harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'HALT', note: '' }))).toEqual(['order.canceled', 'switch.changed'])
    expect(harness.eventTypes(resume(harness))).toEqual(['switch.changed'])
  })
})
