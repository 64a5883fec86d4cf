/**
 * An amend of an order with a time-to-live (src/kernel/ttl.ts): the amend keeps the order's expiry, and past it no
 * amend goes out — a replace sent after the expiry would change (or, at a cancel-replace venue, place anew) an order
 * whose life has ended. An amend still waiting in Lane2 when its send is decided at or past the expiry is superseded
 * and the order's cancel asked (TTL_EXPIRED), as the expiry's own notice would; an amend asked past it is refused.
 */

import { describe, expect, test } from 'bun:test'
import { TTL_PRINCIPAL_ID } from '../../src/kernel/index.ts'
import { d, Harness, market, T0 } from './fixtures.ts'

const TTL_MS = 30_000

/** Amends at the harness's time, with a fresh reference price (the data-health guard reads its age). */
function amend(harness: Harness, orderId: string, change: { qty?: string; price?: string }) {
  return harness.amend(orderId, change, { market: market('50000', { observedAtMs: harness.nowMs }) })
}

describe('an amend of an order with a time-to-live', () => {
  test('an applied amend keeps the order expiry', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ ttl_ms: TTL_MS })
    harness.nowMs = T0 + 1_000
    expect(amend(harness, orderId, { qty: '0.2' }).reply.kind).toBe('amend_accepted')
    harness.send(orderId, 'amend')
    harness.amendResult(orderId, { kind: 'ok', value: { accepted: true } })
    expect(harness.order(orderId)).toMatchObject({ qty: d('0.2'), expiresAtMs: T0 + TTL_MS })
  })

  test('an amend waiting in Lane2 is not sent at or past the expiry: it is superseded and the order cancel asked (TTL_EXPIRED)', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ ttl_ms: TTL_MS })
    harness.nowMs = T0 + TTL_MS - 1
    expect(amend(harness, orderId, { qty: '0.2' }).reply.kind).toBe('amend_accepted')
    harness.nowMs = T0 + TTL_MS
    const decision = harness.send(orderId, 'amend')
    expect(harness.eventTypes(decision)).toEqual(['order.amend_failed', 'order.cancel_requested'])
    expect(decision.events[0]).toMatchObject({ reason: 'AMEND_SUPERSEDED' })
    expect(decision.events[1]).toMatchObject({ reason: 'TTL_EXPIRED', principalId: TTL_PRINCIPAL_ID })
    expect(harness.log.some((event) => event.type === 'order.amend_send_requested')).toBe(false)
    expect(harness.order(orderId)).toMatchObject({ status: 'CancelRequested', cancelWanted: true, qty: d('0.1') })
    expect(harness.next()).toMatchObject({ lane: 0, kind: 'cancel', orderId })
  })

  test('an amend retried after a throttled answer past the expiry is not sent again', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ ttl_ms: TTL_MS })
    harness.nowMs = T0 + TTL_MS - 10
    expect(amend(harness, orderId, { price: '49000' }).reply.kind).toBe('amend_accepted')
    expect(harness.eventTypes(harness.send(orderId, 'amend'))).toEqual(['order.amend_send_requested'])
    harness.nowMs = T0 + TTL_MS + 5
    harness.amendResult(orderId, { kind: 'retryable', reason: 'throttled', retryAfterMs: 0 })
    const retry = harness.send(orderId, 'amend')
    expect(harness.eventTypes(retry)).not.toContain('order.amend_send_requested')
    expect(harness.log.filter((event) => event.type === 'order.amend_send_requested')).toHaveLength(1)
    expect(harness.order(orderId).cancelWanted).toBe(true)
  })

  test('an amend asked at or past the expiry is refused (ORDER_NOT_AMENDABLE), nothing recorded', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ ttl_ms: TTL_MS })
    harness.nowMs = T0 + TTL_MS
    const decision = amend(harness, orderId, { qty: '0.2' })
    expect(decision.events).toEqual([])
    expect(decision.reply).toMatchObject({ kind: 'refused', reason: 'ORDER_NOT_AMENDABLE' })
    expect(harness.order(orderId).amend).toBeNull()
  })

  test('the repeat of an amend accepted before the expiry is still answered as that amend', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ ttl_ms: TTL_MS })
    harness.nowMs = T0 + TTL_MS - 1
    expect(amend(harness, orderId, { qty: '0.2' }).reply).toMatchObject({ kind: 'amend_accepted', amendId: 1, duplicate: false })
    harness.nowMs = T0 + TTL_MS
    expect(amend(harness, orderId, { qty: '0.2' }).reply).toMatchObject({ kind: 'amend_accepted', amendId: 1, duplicate: true })
  })
})
