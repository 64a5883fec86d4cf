/**
 * When a read-back's venue was asked, as the kernel is told it (src/runtime/read-back-asked.ts): news in the same
 * millisecond as the question, after it, is newer than the venue's view, so the kernel keeps the order as the news left
 * it. The clock counts whole milliseconds; told the question's own millisecond, the kernel took the stale view as
 * newer (review: a CancelPending order moved back to CancelRequested and a second cancel sent; a Filled order refused
 * an "open" view with an alert and went Unknown).
 */

import { describe, expect, test } from 'bun:test'
import { askedAtMsFor, askedOrderOf } from '../../src/runtime/read-back-asked.ts'
import { d, Harness, report } from '../kernel/fixtures.ts'
import { venueOrderOf } from '../kernel/venue-fixtures.ts'

/** The stale "open" view of `orderId`, answered 3 ms after a question asked as `asked` notes it. */
function staleOpenView(harness: Harness, orderId: string, asked: ReturnType<typeof askedOrderOf>) {
  harness.nowMs += 3
  const askedAtMs = askedAtMsFor(asked, harness.order(orderId))
  return harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs, orderId, venueOrder: venueOrderOf(harness, orderId, { status: 'open' }), trades: [] })
}

describe('a read-back asked in the millisecond of later news', () => {
  test('a fill after the question: the Filled order stands, nothing is recorded', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.nowMs += 1000
    const asked = askedOrderOf(harness.order(orderId), harness.nowMs)
    harness.report(report(harness.order(orderId), { kind: 'fill', execId: 'f1', lastQty: d('0.1'), lastPrice: d('50000'), cumQty: d('0.1') }))
    expect(harness.order(orderId).status).toBe('Filled')
    expect(staleOpenView(harness, orderId, asked).events).toEqual([])
    expect(harness.order(orderId).status).toBe('Filled')
  })

  test('a cancel sent after the question: the order stays CancelPending and its cancel\'s answer settles it', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.nowMs += 1000
    const asked = askedOrderOf(harness.order(orderId), harness.nowMs)
    harness.cancel(orderId)
    harness.send(orderId, 'cancel')
    expect(harness.order(orderId).status).toBe('CancelPending')
    expect(staleOpenView(harness, orderId, asked).events).toEqual([])
    expect(harness.order(orderId).status).toBe('CancelPending')
    harness.cancelResult(orderId, { kind: 'ok', value: { accepted: true } })
    expect(harness.next()).toBeNull()
  })

  test('news of the question\'s millisecond before it, and nothing since: the view is newer and is taken', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.nowMs += 1000
    harness.report(report(harness.order(orderId), { kind: 'fill', execId: 'f1', lastQty: d('0.05'), lastPrice: d('50000'), cumQty: d('0.05') }))
    const asked = askedOrderOf(harness.order(orderId), harness.nowMs)
    expect(askedAtMsFor(asked, harness.order(orderId))).toBe(asked.askedAtMs)
    // The venue filled the rest after it looked at the first fill: its view is taken (the order converges to Filled).
    harness.nowMs += 3
    const decision = harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: askedAtMsFor(asked, harness.order(orderId)), orderId, venueOrder: venueOrderOf(harness, orderId, { status: 'filled', cumQty: d('0.1') }), trades: [] })
    expect(decision.events.length).toBeGreaterThan(0)
    expect(harness.order(orderId).status).toBe('Filled')
  })

  test('news in a later millisecond, or none: the question\'s own time', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.nowMs += 1000
    const asked = askedOrderOf(harness.order(orderId), harness.nowMs)
    expect(askedAtMsFor(asked, harness.order(orderId))).toBe(asked.askedAtMs)
    harness.nowMs += 1
    harness.cancel(orderId)
    expect(askedAtMsFor(asked, harness.order(orderId))).toBe(asked.askedAtMs)
    expect(askedAtMsFor(asked, undefined)).toBe(asked.askedAtMs)
  })

  test('at time 0 the question stays at 0: a command record holds no negative time (review)', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const asked = askedOrderOf({ ...harness.order(orderId), updatedAtMs: -5 }, 0)
    expect(askedAtMsFor(asked, { ...harness.order(orderId), updatedAtMs: 0 })).toBe(0)
  })
})
