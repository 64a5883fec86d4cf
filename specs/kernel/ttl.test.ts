/**
 * An order's time-to-live (src/kernel/ttl.ts): ttl_ms on the body ends the order's life ttl_ms after its acceptance,
 * decided from the command's time only. A place decided at or past it is never sent; the runtime's `ttl_expire` ends a
 * queued order unsent (Canceled, TTL_EXPIRED, reservation released) and asks a cancel through Lane0 for one that may
 * rest at the venue; an order sent before is read back, never resent; a repeat or early notice records nothing.
 */

import { describe, expect, test } from 'bun:test'
import { decide, replay, stateDigest, TTL_PRINCIPAL_ID } from '../../src/kernel/index.ts'
import { d, Harness, report, T0 } from './fixtures.ts'

const TTL_MS = 30_000

function expire(harness: Harness, orderId: string) {
  return harness.run({ kind: 'ttl_expire', nowMs: harness.nowMs, orderId })
}

describe('an order with a time-to-live', () => {
  test('acceptance records ttlMs and the order holds its expiry; without ttl_ms it has none', () => {
    const harness = Harness.funded()
    const decision = harness.place({ client_order_id: 'ttl', ttl_ms: TTL_MS })
    expect(decision.events[0]).toMatchObject({ type: 'order.accepted', ttlMs: TTL_MS })
    const orderId = (decision.reply as { orderId: string }).orderId
    expect(harness.order(orderId).expiresAtMs).toBe(T0 + TTL_MS)
    const plain = harness.placedId({ client_order_id: 'plain' })
    expect(harness.order(plain).expiresAtMs).toBeNull()
    expect('ttlMs' in (harness.log.at(-1) ?? {})).toBe(false)
  })

  test('a place decided at its expiry is not sent: the order ends Canceled with TTL_EXPIRED, its reservation released', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId({ ttl_ms: TTL_MS })
    expect(harness.reserved('USD')).toBeGreaterThan(0n)
    harness.nowMs = T0 + TTL_MS - 1
    expect(harness.next()).toMatchObject({ kind: 'place', orderId })
    harness.nowMs = T0 + TTL_MS
    const decision = harness.send(orderId)
    expect(harness.eventTypes(decision)).toEqual(['order.canceled'])
    expect(decision.events[0]).toMatchObject({ reason: 'TTL_EXPIRED', source: 'local' })
    expect(harness.order(orderId)).toMatchObject({ status: 'Canceled', lastReason: 'TTL_EXPIRED', sendAttempts: 0 })
    expect(harness.reserved('USD')).toBe(0n)
    expect(harness.next()).toBeNull()
  })

  test('one millisecond before its expiry the same place is sent', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId({ ttl_ms: TTL_MS })
    harness.nowMs = T0 + TTL_MS - 1
    expect(harness.eventTypes(harness.send(orderId))).toEqual(['order.send_requested'])
  })

  test('ttl_expire of a queued order never sent (never picked: its instrument busy, say) ends it unsent, its reservation released', () => {
    const harness = Harness.funded()
    const queued = harness.placedId({ client_order_id: 'q', ttl_ms: TTL_MS })
    harness.nowMs = T0 + TTL_MS
    const decision = expire(harness, queued)
    expect(harness.eventTypes(decision)).toEqual(['order.canceled'])
    expect(decision.events[0]).toMatchObject({ reason: 'TTL_EXPIRED', source: 'local' })
    expect(harness.order(queued)).toMatchObject({ status: 'Canceled', lastReason: 'TTL_EXPIRED', sendAttempts: 0 })
    expect(harness.reserved('USD')).toBe(0n)
    expect(harness.next()).toBeNull()
  })

  test('ttl_expire of an order resting at the venue asks its cancel through Lane0 (reason TTL_EXPIRED), never a second place', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ ttl_ms: TTL_MS })
    expect(harness.order(orderId).status).toBe('AckedOpen')
    harness.nowMs = T0 + TTL_MS
    const decision = expire(harness, orderId)
    expect(harness.eventTypes(decision)).toEqual(['order.cancel_requested'])
    expect(decision.events[0]).toMatchObject({ reason: 'TTL_EXPIRED', principalId: TTL_PRINCIPAL_ID })
    expect(harness.order(orderId)).toMatchObject({ status: 'CancelRequested', cancelWanted: true })
    expect(harness.next()).toMatchObject({ lane: 0, kind: 'cancel', orderId })
    expect(harness.eventTypes(harness.send(orderId, 'cancel'))).toEqual(['order.cancel_send_requested'])
    expect(harness.log.filter((event) => event.type === 'order.send_requested')).toHaveLength(1)
    // A repeat notice records nothing.
    expect(expire(harness, orderId).events).toEqual([])
  })

  test('a fill racing the TTL cancel is booked by the normal rules: the order fills, the cancel is refused as too late', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ ttl_ms: TTL_MS, qty: '0.1' })
    harness.nowMs = T0 + TTL_MS
    expire(harness, orderId)
    harness.send(orderId, 'cancel')
    const order = harness.order(orderId)
    harness.report(report(order, { execId: 'f1', kind: 'fill', cumQty: d('0.1'), lastQty: d('0.1'), lastPrice: d('50000'), fee: 0n, feeAsset: 'USD', liquidity: 'maker', venueOrderId: `v-${orderId}` }))
    expect(harness.order(orderId).cumQty).toBe(d('0.1'))
    harness.cancelResult(orderId, { kind: 'rejected', reason: 'order already filled' })
    expect(harness.order(orderId).status).toBe('Filled')
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('an order sent before and waiting to go out again (a retry) is read back at its expiry, never sent again', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId({ qty: '1', price: '50000', ttl_ms: TTL_MS })
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'retryable', reason: 'throttled', retryAfterMs: 0 })
    expect(harness.order(orderId)).toMatchObject({ status: 'Enqueued', sendAttempts: 1 })
    harness.nowMs = T0 + TTL_MS
    const decision = harness.send(orderId)
    expect(harness.eventTypes(decision)).toEqual(['order.unknown', 'order.cancel_requested'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true, sendAttempts: 1, lastReason: 'TTL_EXPIRED' })
    expect(harness.next()).not.toMatchObject({ kind: 'place' })
    expect(harness.log.filter((event) => event.type === 'order.send_requested')).toHaveLength(1)
  })

  test('a place in flight at its expiry follows the cancel rules for an order in flight; its Unknown outcome is read back, not resent', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId({ ttl_ms: TTL_MS })
    harness.send(orderId)
    harness.nowMs = T0 + TTL_MS
    expect(harness.eventTypes(expire(harness, orderId))).toEqual(['order.cancel_requested'])
    harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true })
    expect(harness.next()).not.toMatchObject({ kind: 'place' })
  })

  test('a notice before the expiry (by the command time) or for an order without a time-to-live records nothing', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId({ client_order_id: 'a', ttl_ms: TTL_MS })
    const plain = harness.placedId({ client_order_id: 'b' })
    harness.nowMs = T0 + TTL_MS - 1
    expect(expire(harness, orderId).events).toEqual([])
    harness.nowMs = T0 + 10 * TTL_MS
    expect(expire(harness, plain).events).toEqual([])
    expect(expire(harness, 'nope').reply).toMatchObject({ kind: 'refused', reason: 'ORDER_NOT_FOUND' })
  })

  test('replay of the log rebuilds the same state, and re-deciding each expiry on the replayed state gives the same events', () => {
    const harness = Harness.funded()
    const queued = harness.placedId({ client_order_id: 'q', ttl_ms: TTL_MS })
    const resting = harness.openOrder({ client_order_id: 'r', ttl_ms: TTL_MS })
    harness.nowMs = T0 + TTL_MS
    for (const orderId of [queued, resting]) {
      const command = { kind: 'ttl_expire' as const, nowMs: harness.nowMs, orderId }
      const replayed = replay(harness.log)
      expect(stateDigest(replayed)).toBe(stateDigest(harness.state))
      const decided = harness.run(command)
      expect(decided.events.length).toBe(1)
      expect(decide(replayed, command)).toEqual(decided)
    }
    expect(stateDigest(replay(harness.log))).toBe(stateDigest(harness.state))
    expect(harness.order(queued).status).toBe('Canceled')
    expect(harness.order(resting).status).toBe('CancelRequested')
  })
})
