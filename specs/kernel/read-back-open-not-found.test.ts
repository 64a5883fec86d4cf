/**
 * A read-back of an order egress holds open (acknowledged, resting, being canceled) that the venue does not know
 * (src/kernel/reconcile.ts deniedOpen): past the grace since its last place or amend, the order goes Unknown
 * (VENUE_UNKNOWN_ORDER) and the Unknown read-backs settle it; within the grace, or with an amend under way, nothing.
 */

import { describe, expect, test } from 'bun:test'
import { d, Harness, market } from './fixtures.ts'
import { realFillReport } from './venue-fixtures.ts'

/** The grace of fixtures.ts's config (reconcileGraceMs). */
const GRACE_MS = 5_000

function notFound(harness: Harness, orderId: string) {
  return harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 10, orderId, venueOrder: null, trades: [] })
}

describe('an open order the venue does not know', () => {
  test('past the grace it goes Unknown, and a second "not found" ends it Failed (not proven absent), its reservation released', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    expect(harness.reserved('USD')).toBeGreaterThan(0n)
    harness.nowMs += 60_000
    const first = notFound(harness, orderId)
    expect(harness.eventTypes(first)).toEqual(['order.unknown', 'order.reconcile_deferred'])
    expect(first.events[0]).toMatchObject({ reason: 'VENUE_UNKNOWN_ORDER' })
    expect(harness.order(orderId).status).toBe('Unknown')
    expect(harness.reserved('USD')).toBeGreaterThan(0n)
    // Asked again after the recheck time, as any Unknown order.
    expect(harness.next()).toBeNull()
    harness.nowMs += 1_000
    expect(harness.next()).toMatchObject({ kind: 'reconcile', orderId })
    notFound(harness, orderId)
    expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: false })
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('one being canceled goes Unknown too, and ends without its cancel going out again', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.cancel(orderId)
    expect(harness.order(orderId).status).toBe('CancelRequested')
    harness.nowMs += 60_000
    notFound(harness, orderId)
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true })
    harness.nowMs += 1_000
    notFound(harness, orderId)
    expect(harness.order(orderId).status).toBe('Failed')
  })

  test('with fills booked it stays Unknown: the fills prove it existed', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ qty: '1', price: '50000' })
    realFillReport(harness, orderId, { execId: 'f-1', lastQty: '0.4', cumQty: '0.4' })
    expect(harness.order(orderId).status).toBe('Partial')
    harness.nowMs += 60_000
    notFound(harness, orderId)
    harness.nowMs += 1_000
    notFound(harness, orderId)
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cumQty: d('0.4') })
  })

  test('within the grace since its place, "not found" proves nothing: the order stays open and nothing is recorded', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.nowMs += GRACE_MS - 100
    const decision = notFound(harness, orderId)
    expect(decision.events).toEqual([])
    expect(harness.order(orderId).status).toBe('AckedOpen')
  })

  test('with an amend under way (the venue may know it by the amend id), or within the grace since the amend went out, nothing', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.nowMs += 60_000
    expect(harness.amend(orderId, { qty: '0.2' }, { market: market('50000', { observedAtMs: harness.nowMs }) }).reply.kind).toBe('amend_accepted')
    harness.send(orderId, 'amend')
    expect(harness.order(orderId).amend?.stage).toBe('sent')
    harness.nowMs += 60_000
    expect(notFound(harness, orderId).events).toEqual([])
    harness.amendResult(orderId, { kind: 'ok', value: { accepted: true } })
    harness.nowMs += 100
    expect(notFound(harness, orderId).events).toEqual([])
    expect(harness.order(orderId).status).toBe('AckedOpen')
  })
})
