/**
 * An ack — a `new` report, a place answered ok — is the first news of an order: the venue took it. It concludes an
 * Unknown order whose only question was whether the venue has it (a place answered unknown, a crash with the place in
 * flight): AckedOpen. It concludes nothing about an order that venue news made Unknown — a final report stating fills
 * egress never got (FILLS_MISSED), a reject of its id as a duplicate, fills booked before the anomaly: the ack is older
 * than that news. Before, it took such an order to AckedOpen, so the read-back the Unknown was waiting for was dropped:
 * the fills were left unbooked and the order held open though the venue had ended it, until a sweep happened to read it
 * back; an order with fills booked was AckedOpen, as if none were; and a cancel wanted meanwhile (its owner's, its
 * time-to-live's, a flatten's: an Unknown order's cancel waits for it to be known open) was left wanted with no work
 * queued — the sweep, finding the order listed as egress held it, confirmed it and read nothing back, so the cancel
 * never went out (kernel review). Such an order stays Unknown and its read-back concludes: found open, its cancel goes.
 */

import { describe, expect, test } from 'bun:test'
import { d, Harness, report } from './fixtures.ts'
import { venueOrderOf, venueTradeOf } from './venue-fixtures.ts'

/** An order sent, its place still in flight. */
function sentOrder(harness: Harness, overrides: Record<string, unknown> = {}): string {
  const orderId = harness.placedId(overrides)
  harness.send(orderId)
  return orderId
}

/** An order sent, its place still in flight, made Unknown by a report that the venue already has its id. */
function duplicateInFlight(harness: Harness, overrides: Record<string, unknown> = {}): string {
  const orderId = sentOrder(harness, overrides)
  harness.report(report(harness.order(orderId), { kind: 'rejected', execId: 'r-1', reason: 'duplicate_client_order_id' }))
  expect(harness.order(orderId).status).toBe('Unknown')
  return orderId
}

/** The place answered ok: still Unknown, read back and found open, its cancel is due in Lane0 and goes out. */
function expectCancelGoesOut(harness: Harness, orderId: string): void {
  harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: 'v-9' } })
  expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true })
  expect(harness.next()).toMatchObject({ orderId, kind: 'reconcile' })
  harness.nowMs += 10
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: venueOrderOf(harness, orderId), trades: [] })
  expect(harness.order(orderId)).toMatchObject({ status: 'CancelRequested', venueOrderId: 'v-9' })
  expect(harness.next()).toMatchObject({ orderId, kind: 'cancel' })
  harness.send(orderId, 'cancel')
  expect(harness.order(orderId).status).toBe('CancelPending')
}

describe('a late ack of an order venue news made Unknown', () => {
  test('after a cancel report stating missed fills, the place answered ok leaves it Unknown for its read-back', () => {
    const harness = Harness.funded()
    const orderId = sentOrder(harness)
    harness.report(report(harness.order(orderId), { kind: 'canceled', execId: 'c-1', cumQty: d('0.05') }))
    expect(harness.order(orderId).status).toBe('Unknown')
    harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: 'v-9' } })
    expect(harness.order(orderId).status).toBe('Unknown')
    expect(harness.next()).toMatchObject({ orderId, kind: 'reconcile' })
    // The read-back books the missed fill and ends the order as the venue holds it.
    harness.nowMs += 10
    const venueOrder = venueOrderOf(harness, orderId, { status: 'canceled', cumQty: d('0.05') })
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder, trades: [venueTradeOf(harness, orderId, 't-1', '0.05')] })
    expect(harness.order(orderId)).toMatchObject({ status: 'Canceled', cumQty: d('0.05'), venueOrderId: 'v-9' })
  })

  test('after a fill and then an expiry report stating more, a late `new` report leaves it Unknown, never AckedOpen with fills', () => {
    const harness = Harness.funded()
    const orderId = sentOrder(harness)
    harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
    harness.report(report(harness.order(orderId), { kind: 'fill', execId: 'f-1', lastQty: d('0.02'), lastPrice: d('50000'), cumQty: d('0.02') }))
    expect(harness.order(orderId).status).toBe('Partial')
    harness.report(report(harness.order(orderId), { kind: 'expired', execId: 'x-1', cumQty: d('0.05') }))
    expect(harness.order(orderId).status).toBe('Unknown')
    harness.report(report(harness.order(orderId), { kind: 'new', execId: 'n-1', venueOrderId: 'v-9' }))
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cumQty: d('0.02') })
    expect(harness.next()).toMatchObject({ orderId, kind: 'reconcile' })
  })

  test("after a duplicate id's reject, the owner's cancel goes out once the order is read back open", () => {
    const harness = Harness.funded()
    const orderId = duplicateInFlight(harness)
    expect(harness.cancel(orderId).reply.kind).toBe('done')
    expectCancelGoesOut(harness, orderId)
  })

  test("after a duplicate id's reject, its time-to-live's cancel goes out the same way", () => {
    const harness = Harness.funded()
    const orderId = duplicateInFlight(harness, { ttl_ms: 1_000 })
    harness.nowMs += 1_000
    harness.run({ kind: 'ttl_expire', nowMs: harness.nowMs, orderId })
    expectCancelGoesOut(harness, orderId)
  })

  test('an order Unknown only because its place was answered unknown is concluded by its `new` report, as before', () => {
    const harness = Harness.funded()
    const orderId = sentOrder(harness)
    harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
    harness.report(report(harness.order(orderId), { kind: 'new', execId: 'n-1', venueOrderId: 'v-9' }))
    expect(harness.order(orderId)).toMatchObject({ status: 'AckedOpen', venueOrderId: 'v-9' })
  })
})
