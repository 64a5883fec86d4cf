import { describe, expect, test } from 'bun:test'
import type { Mode } from '../../src/domain/modes.ts'
import { admin, d, Harness, trader } from './fixtures.ts'

const paperOnly = { ...trader, liveAllowed: false }

function setMode(harness: Harness, mode: Mode) {
  return harness.run({ kind: 'set_mode', nowMs: harness.nowMs, principal: admin, mode, note: '' })
}

describe('a mode change that reaches further ends the work decided under the mode before', () => {
  test('a paper order still queued is not sent live after paper → live: canceled before send, MODE_ESCALATED', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId({}, { principal: paperOnly })
    const change = setMode(harness, 'live')
    expect(harness.eventTypes(change)).toEqual(['order.canceled', 'mode.changed'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Canceled', lastReason: 'MODE_ESCALATED' })
    expect(harness.reserved('USD')).toBe(0n)
    expect(harness.next()).toBeNull()
    // Asked again, the same order is decided under live: this principal may not trade live.
    expect(harness.place({ client_order_id: 'c2' }, { principal: paperOnly }).reply).toMatchObject({ kind: 'rejected', reason: 'LIVE_NOT_PERMITTED', guard: 'mode' })
  })

  test('an amend waiting in Lane2 fails; the order stands and holds its own worst case', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    expect(harness.amend(orderId, { qty: '0.2' }).reply.kind).toBe('amend_accepted')
    setMode(harness, 'live')
    expect(harness.order(orderId)).toMatchObject({ status: 'AckedOpen', qty: d('0.1'), lastReason: 'MODE_ESCALATED' })
    expect(harness.order(orderId).amend?.stage).toBe('failed')
    expect(harness.reserved('USD')).toBe(d('5005'))
    expect(harness.next()).toBeNull()
  })

  test('shadow → paper ends queued work too', () => {
    const harness = Harness.funded()
    setMode(harness, 'shadow')
    const sent = harness.placedId()
    harness.send(sent)
    expect(harness.order(sent).status).toBe('Rejected') // shadow sends nothing
    const queued = harness.placedId({ client_order_id: 'c2' })
    expect(harness.order(queued).status).toBe('Enqueued')
    setMode(harness, 'paper')
    expect(harness.order(queued)).toMatchObject({ status: 'Canceled', lastReason: 'MODE_ESCALATED' })
  })

  test('a place in flight is canceled: a retry answer reads it back instead of sending it again under live', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId({}, { principal: paperOnly })
    harness.send(orderId)
    expect(harness.eventTypes(setMode(harness, 'live'))).toEqual(['order.cancel_requested', 'mode.changed'])
    harness.placeResult(orderId, { kind: 'retryable', reason: 'throttled', retryAfterMs: 10 })
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true })
    harness.nowMs += 5_000
    expect(harness.next()).toMatchObject({ orderId, lane: 3, kind: 'reconcile' })
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: null, trades: [] })
    expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true, cancelWanted: true })
    expect(harness.next()).toBeNull()
  })

  test('a place in flight that the venue took is canceled there', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    setMode(harness, 'live')
    harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: 'v-1' } })
    expect(harness.order(orderId)).toMatchObject({ status: 'CancelRequested', lastReason: 'MODE_ESCALATED' })
    expect(harness.next()).toMatchObject({ lane: 0, kind: 'cancel', orderId })
  })

  test('a change that reaches less (live → paper) leaves the queues alone', () => {
    const harness = Harness.funded()
    setMode(harness, 'live')
    const orderId = harness.placedId()
    expect(harness.eventTypes(setMode(harness, 'paper'))).toEqual(['mode.changed'])
    expect(harness.order(orderId).status).toBe('Enqueued')
    expect(harness.next()).toMatchObject({ kind: 'place', orderId })
  })
})
