/**
 * An Unknown order whose amend's answer was lost, read back "not found" (src/kernel/reconcile.ts notFound): the grace
 * is measured from its last request to the venue — the amend, not only the place. The venue may not know the order by
 * the id asked yet, or any more (a replace renames it). Measured from the place alone, an amend sent a minute after it
 * and read back at once ended the order Failed, its reservation released, while it rested at the venue.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { d, Harness, market } from './fixtures.ts'

/** The grace of fixtures.ts's config (reconcileGraceMs). */
const GRACE_MS = 5_000
/** 0.2 BTC × 50000 + 10 bps: the amend's worst case, which the Unknown order holds. */
const AMENDED_COST = d('10000') + d('10')

/** An order placed and acked a minute ago, its amend to 0.2 sent now and answered unknown. */
function amendLost(harness: Harness): { orderId: string; amendSentAtMs: number } {
  const orderId = harness.openOrder()
  harness.nowMs += 60_000
  expect(harness.amend(orderId, { qty: '0.2' }, { market: market('50000', { observedAtMs: harness.nowMs }) }).reply.kind).toBe('amend_accepted')
  harness.send(orderId, 'amend')
  const amendSentAtMs = harness.nowMs
  harness.amendResult(orderId, { kind: 'unknown', reason: 'timeout' })
  expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', amend: { stage: 'sent' } })
  return { orderId, amendSentAtMs }
}

function notFound(harness: Harness, orderId: string) {
  return harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 5, orderId, venueOrder: null, trades: [] })
}

describe('an Unknown order with its amend under way, read back not found', () => {
  test('within the grace since the amend went out, nothing is concluded: it stays Unknown, its worst case held', () => {
    const harness = Harness.funded()
    const { orderId, amendSentAtMs } = amendLost(harness)
    harness.nowMs += 100
    const decision = notFound(harness, orderId)
    expect(harness.eventTypes(decision)).toEqual(['order.reconcile_deferred'])
    expect((decision.events[0] as EventOf<'order.reconcile_deferred'>).retryAtMs).toBe(amendSentAtMs + GRACE_MS)
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', amend: { stage: 'sent' } })
    expect(harness.reserved('USD')).toBe(AMENDED_COST)
    // The venue then answers under the amend's id: the replace happened, and the order rests open at its new quantity.
    harness.nowMs += GRACE_MS
    const venueOrder = { clientOrderId: `eg-${orderId}.a1`, venueOrderId: 'v-9', account: harness.order(orderId).accountId, symbol: 'BTC-USD', side: 'buy' as const, qty: d('0.2'), price: d('50000'), cumQty: 0n, status: 'open' as const }
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder, trades: [] })
    expect(harness.order(orderId)).toMatchObject({ status: 'AckedOpen', qty: d('0.2'), amend: null })
  })

  test('past the grace since the amend, the venue knowing it by no id ends it Failed, acknowledged so not resendable', () => {
    const harness = Harness.funded()
    const { orderId } = amendLost(harness)
    harness.nowMs += GRACE_MS + 10
    expect(harness.eventTypes(notFound(harness, orderId))).toEqual(['order.reconciled'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: false })
    expect(harness.reserved('USD')).toBe(0n)
  })
})
