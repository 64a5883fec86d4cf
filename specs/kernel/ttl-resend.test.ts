/**
 * A resend of an order with a time-to-live (src/kernel/resend.ts, src/kernel/ttl.ts): an order proven absent at the
 * venue (Failed, resendable) is not resent at or past its expiry — it would be reserved again and enqueued only for
 * the send check to read it back (never sent). The resend is refused ORDER_NOT_RESENDABLE and the refusal recorded
 * (an `order.resend_refused`, as every refusal of a resend of an order the principal may act for is); a start's resend
 * (bootstrap.ts) reports it as not resent.
 */

import { describe, expect, test } from 'bun:test'
import { admin, failedAbsentOrder, Harness, market, T0 } from './fixtures.ts'

const TTL_MS = 30_000

/** An order with a time-to-live sent, answered unknown and read back "not found": Failed, not at the venue. */
function provenAbsent(harness: Harness): string {
  const orderId = failedAbsentOrder(harness, { qty: '1', price: '50000', ttl_ms: TTL_MS })
  expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true })
  return orderId
}

function resend(harness: Harness, orderId: string) {
  return harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: admin, orderId, market: market('50000', { observedAtMs: harness.nowMs }) })
}

describe('a resend of an order with a time-to-live', () => {
  test('before the expiry it is resent as any proven-absent order is', () => {
    const harness = Harness.funded()
    const orderId = provenAbsent(harness)
    harness.nowMs = T0 + TTL_MS - 1
    expect(resend(harness, orderId).reply).toEqual({ kind: 'done' })
    expect(harness.order(orderId).status).toBe('Enqueued')
  })

  test('at or past the expiry it is refused ORDER_NOT_RESENDABLE, recorded, and the order stays Failed holding nothing', () => {
    const harness = Harness.funded()
    const orderId = provenAbsent(harness)
    harness.nowMs = T0 + TTL_MS
    const decision = resend(harness, orderId)
    expect(decision.reply).toMatchObject({ kind: 'refused', reason: 'ORDER_NOT_RESENDABLE' })
    expect(harness.eventTypes(decision)).toEqual(['order.resend_refused'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Failed', sendAttempts: 1 })
    expect(harness.reserved('USD')).toBe(0n)
    expect(harness.next()).toBeNull()
  })
})
