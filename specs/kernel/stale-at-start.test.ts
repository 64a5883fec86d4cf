/**
 * A start's `expire_stale` (src/kernel/stale-at-start.ts): every place still waiting in a lane whose acceptance is
 * older than the command's window ends with STALE_AT_START — never sent: Canceled on the spot, its reservation
 * released; sent before (waiting for a retry): Unknown with its cancel wanted, read back, never placed again. An amend
 * waiting in Lane2 whose request is older than the window fails (STALE_AT_START), never sent, the order resting at its
 * old terms. Work the window does not reach, and work that is not waiting, is left as it is; a repeat ends nothing more.
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

  test('an amend waiting in Lane2 requested longer ago than the window fails STALE_AT_START, never sent; the order rests at its old terms; one requested exactly the window ago is sent', () => {
    const harness = Harness.funded()
    const older = harness.openOrder({ client_order_id: 'older' })
    const kept = harness.openOrder({ client_order_id: 'kept' })
    const heldBefore = harness.reserved('USD')
    expect(harness.amend(older, { qty: '0.2' }).reply.kind).toBe('amend_accepted')
    harness.nowMs = T0 + 1
    expect(harness.amend(kept, { qty: '0.2' }).reply.kind).toBe('amend_accepted')
    expect(harness.order(older).amend).toMatchObject({ stage: 'requested', requestedAtMs: T0 })
    harness.nowMs = T0 + 1 + WINDOW_MS
    const decision = expireStale(harness)
    expect(harness.eventTypes(decision)).toEqual(['order.amend_failed'])
    expect(decision.events[0]).toMatchObject({ orderId: older, amendId: 1, reason: 'STALE_AT_START' })
    expect(harness.order(older)).toMatchObject({ status: 'AckedOpen', qty: 10_000_000n, price: 5_000_000_000_000n, lastReason: 'STALE_AT_START', amend: { stage: 'failed' } })
    // The failed amend's larger worst case is released: what is held is the old terms of one and the amend of the other.
    expect(harness.reserved('USD')).toBe(heldBefore / 2n + harness.order(kept).reservation.remaining)
    expect(harness.send(older, 'amend').reply).toMatchObject({ kind: 'refused', reason: 'TRANSITION_REFUSED' })
    expect(harness.next()).toMatchObject({ kind: 'amend', orderId: kept })
    expect(harness.eventTypes(harness.send(kept, 'amend'))).toEqual(['order.amend_send_requested'])
    expect(expireStale(harness).events).toEqual([])
  })

  test('an amend back in Lane2 for its retry fails too; one in flight is left to its answer', () => {
    const harness = Harness.funded()
    const retried = harness.openOrder({ client_order_id: 'retried' })
    const inFlight = harness.openOrder({ client_order_id: 'in-flight' })
    for (const orderId of [retried, inFlight]) {
      harness.amend(orderId, { price: '49000' })
      harness.send(orderId, 'amend')
    }
    harness.amendResult(retried, { kind: 'retryable', reason: 'throttled', retryAfterMs: 0 })
    expect(harness.order(retried).amend).toMatchObject({ stage: 'requested', attempts: 1 })
    harness.nowMs = T0 + WINDOW_MS + 1
    const decision = expireStale(harness)
    expect(decision.events.map((event) => [event.type, 'orderId' in event && event.orderId])).toEqual([['order.amend_failed', retried]])
    expect(harness.order(retried)).toMatchObject({ status: 'AckedOpen', price: 5_000_000_000_000n, amend: { stage: 'failed' } })
    expect(harness.order(inFlight).amend).toMatchObject({ stage: 'sent' })
    expect(harness.log.filter((event) => event.type === 'order.amend_send_requested')).toHaveLength(2)
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
