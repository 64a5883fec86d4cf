/**
 * A start's `expire_stale` (src/kernel/stale-at-start.ts): every place still waiting in a lane whose acceptance is
 * older than the command's window ends with STALE_AT_START — never sent: Canceled on the spot, its reservation
 * released; sent before (waiting for a retry): Unknown with its cancel wanted, read back, never placed again. Work the
 * window does not reach, and work that is not a waiting place, is left as it is; a repeat ends nothing more.
 */

import { describe, expect, test } from 'bun:test'
import { ACCOUNT, body, Harness, market, T0, trader } from './fixtures.ts'

const WINDOW_MS = 60_000
const START: typeof trader = { id: 'egress-bootstrap', roles: ['ops', 'admin'], accounts: [], liveAllowed: true }

function expireStale(harness: Harness) {
  return harness.run({ kind: 'expire_stale', nowMs: harness.nowMs, principal: START, ageMsMax: WINDOW_MS })
}

describe('a start ends the places too old to send', () => {
  test('a place accepted exactly the window ago is kept; one millisecond older ends Canceled, STALE_AT_START, reservation released', () => {
    const harness = Harness.funded()
    const older = harness.placedId({ client_order_id: 'older' })
    harness.nowMs = T0 + 1
    const kept = harness.placedId({ client_order_id: 'kept' })
    harness.nowMs = T0 + 1 + WINDOW_MS
    const decision = expireStale(harness)
    expect(harness.eventTypes(decision)).toEqual(['order.canceled'])
    expect(decision.events[0]).toMatchObject({ orderId: older, reason: 'STALE_AT_START', source: 'local' })
    expect(harness.order(older)).toMatchObject({ status: 'Canceled', lastReason: 'STALE_AT_START', sendAttempts: 0 })
    expect(harness.order(older).reservation.remaining).toBe(0n)
    expect(harness.order(kept).status).toBe('Enqueued')
    expect(harness.reserved('USD')).toBe(harness.order(kept).reservation.remaining)
    expect(harness.next()).toMatchObject({ kind: 'place', orderId: kept })
    expect(expireStale(harness).events).toEqual([])
  })

  test('a place sent before and waiting for its retry goes Unknown with its cancel wanted, read back, never placed again', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'retryable', reason: 'throttled', retryAfterMs: 0 })
    expect(harness.order(orderId)).toMatchObject({ status: 'Enqueued', sendAttempts: 1 })
    harness.nowMs = T0 + WINDOW_MS + 1
    const decision = expireStale(harness)
    expect(harness.eventTypes(decision)).toEqual(['order.unknown', 'order.cancel_requested'])
    expect(decision.events[1]).toMatchObject({ reason: 'STALE_AT_START', principalId: START.id })
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true })
    expect(harness.next()).toMatchObject({ kind: 'reconcile', orderId })
    expect(harness.log.filter((event) => event.type === 'order.send_requested')).toHaveLength(1)
  })

  test('an order resting at the venue, and its amend waiting in Lane2, are not touched', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    expect(harness.amend(orderId, { qty: '0.2' }).reply.kind).toBe('amend_accepted')
    harness.nowMs = T0 + 10 * WINDOW_MS
    expect(expireStale(harness).events).toEqual([])
    expect(harness.order(orderId)).toMatchObject({ status: 'AckedOpen', amend: { stage: 'requested' } })
  })

  test('both legs of an OCO list waiting end, each once, with no sibling cancel on top', () => {
    const harness = Harness.funded()
    const legs = [body({ side: 'sell', qty: '0.1', price: '50500', client_order_id: undefined }), body({ side: 'sell', qty: '0.1', price: '49500', client_order_id: undefined })]
    const placed = harness.run({
      kind: 'place_list', nowMs: harness.nowMs, principal: trader, idempotencyKey: null, body: { type: 'oco', account: ACCOUNT, client_list_id: 'stale-list', orders: legs },
      market: market('50000', { observedAtMs: harness.nowMs }), live: { credentialPresent: true, environmentLive: true, haLeader: true }, configDigest: 'cfg-1', buildCommit: 'test',
    })
    if (placed.reply.kind !== 'list_accepted') throw new Error(`expected the list accepted, got ${JSON.stringify(placed.reply)}`)
    harness.nowMs = T0 + WINDOW_MS + 1
    const decision = expireStale(harness)
    const canceled = decision.events.filter((event) => event.type === 'order.canceled')
    expect(canceled.map((event) => 'orderId' in event && event.orderId).sort()).toEqual([...placed.reply.orderIds].sort())
    for (const orderId of placed.reply.orderIds) expect(harness.order(orderId)).toMatchObject({ status: 'Canceled', lastReason: 'STALE_AT_START' })
    expect(harness.reserved('BTC')).toBe(0n)
    expect(harness.next()).toBeNull()
  })
})
