import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { VenueReason } from '../../src/domain/venue-reasons.ts'
import { SimReason } from '../../src/venues/sim/index.ts'
import type { VenueOrder } from '../../src/venues/adapter.ts'
import { resendable } from '../../src/kernel/index.ts'
import { d, Harness, report } from './fixtures.ts'

const fullCost = d('5000') + d('5')

function reconcile(harness: Harness, orderId: string, venueOrder: VenueOrder | null) {
  return harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder, trades: [] })
}

function openAtVenue(harness: Harness, orderId: string): VenueOrder {
  const order = harness.order(orderId)
  return { clientOrderId: order.venueClientOrderId, venueOrderId: 'v-1', account: order.accountId, symbol: order.symbol, side: order.side, qty: order.qty, price: d('50000'), cumQty: 0n, status: 'open' }
}

describe('venue answers that prove the opposite of what they say', () => {
  test('the kernel reads the same reason strings the sim venue sends', () => {
    expect(VenueReason.duplicateClientOrderId).toBe(SimReason.duplicateClientOrderId)
    expect(VenueReason.unknownOrder).toBe(SimReason.unknownOrder)
  })

  test('a place rejected as duplicate_client_order_id means the order exists: Unknown with its reservation, never Rejected', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    const decision = harness.placeResult(orderId, { kind: 'rejected', reason: 'duplicate_client_order_id' })
    expect(harness.eventTypes(decision)).toEqual(['order.unknown', 'order.call_completed'])
    expect((decision.events[0] as EventOf<'order.unknown'>).reason).toBe('VENUE_DUPLICATE_CLIENT_ORDER_ID')
    expect(harness.order(orderId).status).toBe('Unknown')
    expect(harness.reserved('USD')).toBe(fullCost)
    expect(harness.next()).toMatchObject({ kind: 'reconcile', lane: 3, orderId })
    reconcile(harness, orderId, openAtVenue(harness, orderId))
    expect(harness.order(orderId).status).toBe('AckedOpen')
  })

  test('a duplicate answer to a place with a cancel already wanted keeps the cancel: Unknown, then CancelRequested once found', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.cancel(orderId)
    harness.placeResult(orderId, { kind: 'rejected', reason: 'duplicate_client_order_id' })
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true })
    reconcile(harness, orderId, openAtVenue(harness, orderId))
    expect(harness.order(orderId).status).toBe('CancelRequested')
  })

  test('a duplicate answer after the venue already reported the order changes nothing and raises no alert', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.report({ venue: 'sim', execId: 'n1', kind: 'new', clientOrderId: `eg-${orderId}`, venueOrderId: 'v-1', account: 'acct-1', symbol: 'BTC-USD', side: 'buy', cumQty: 0n, venueTimeMs: harness.nowMs })
    const decision = harness.placeResult(orderId, { kind: 'rejected', reason: 'duplicate_client_order_id' })
    expect(harness.eventTypes(decision)).toEqual(['order.call_completed'])
    expect(harness.order(orderId).status).toBe('AckedOpen')
  })

  test('a reject report for a duplicate client id is about the second copy: the order goes Unknown, never Rejected', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    const rejected = { venue: 'sim', execId: 'r1', kind: 'rejected' as const, clientOrderId: `eg-${orderId}`, venueOrderId: 'v-1', account: 'acct-1', symbol: 'BTC-USD', side: 'buy' as const, cumQty: 0n, reason: 'duplicate_client_order_id', venueTimeMs: harness.nowMs }
    expect(harness.eventTypes(harness.report(rejected))).toEqual(['inbox.report_accepted', 'order.unknown'])
    expect(harness.order(orderId).status).toBe('Unknown')
    expect(harness.reserved('USD')).toBe(fullCost)
  })

  test('any other venue reject of a place is definite: Rejected, reservation released', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'rejected', reason: 'post_only_would_cross' })
    expect(harness.order(orderId).status).toBe('Rejected')
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('a cancel answered unknown_order right after the send is not proof of absence: Unknown, cancel still wanted, deferred in grace', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.cancel(orderId)
    harness.send(orderId, 'cancel')
    const decision = harness.cancelResult(orderId, { kind: 'rejected', reason: 'unknown_order' })
    expect(harness.eventTypes(decision)).toEqual(['order.cancel_rejected', 'order.unknown', 'order.call_completed'])
    expect((decision.events[1] as EventOf<'order.unknown'>).reason).toBe('VENUE_UNKNOWN_ORDER')
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true })
    expect(harness.reserved('USD')).toBe(fullCost)
    harness.nowMs += 1_000
    expect(harness.eventTypes(reconcile(harness, orderId, null))).toEqual(['order.reconcile_deferred'])
    expect(harness.order(orderId).status).toBe('Unknown')
    // Found open after all: the cancel goes out again.
    reconcile(harness, orderId, openAtVenue(harness, orderId))
    expect(harness.order(orderId).status).toBe('CancelRequested')
  })
})

describe('venue news for an order waiting in Enqueued', () => {
  test('sent before (a throttled place): a fill report moves it to Unknown first and is booked; nothing is sent again', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'retryable', reason: 'rate_limited', retryAfterMs: 60_000 })
    expect(harness.order(orderId)).toMatchObject({ status: 'Enqueued', sendAttempts: 1 })
    const order = harness.order(orderId)
    const decision = harness.report(report(order, { kind: 'fill', execId: 'f1', lastQty: order.qty, lastPrice: d('50000'), cumQty: order.qty, fee: 0n, feeAsset: 'USD' }))
    expect(harness.eventTypes(decision)).toEqual(['inbox.report_accepted', 'order.unknown', 'order.fill'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Filled', cumQty: order.qty })
    expect(harness.next()).toBeNull()
  })

  test('sent before: a new report moves it to Unknown and acks it', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'retryable', reason: 'rate_limited', retryAfterMs: 60_000 })
    harness.report(report(harness.order(orderId), { kind: 'new', execId: 'n1', venueOrderId: 'v-7' }))
    expect(harness.order(orderId)).toMatchObject({ status: 'AckedOpen', venueOrderId: 'v-7' })
    expect(harness.next()).toBeNull()
  })

  test('found not at the venue (Failed): a fill report moves it to Unknown first and is booked; it is no longer resendable', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
    harness.nowMs += 5_000
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: null, trades: [] })
    expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true })
    const order = harness.order(orderId)
    const half = order.qty / 2n
    const decision = harness.report(report(order, { kind: 'fill', execId: 'f1', lastQty: half, lastPrice: d('50000'), cumQty: half, fee: d('1'), feeAsset: 'USD' }))
    expect(harness.eventTypes(decision)).toEqual(['inbox.report_accepted', 'order.unknown', 'order.fill'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: half })
    expect(resendable(harness.order(orderId))).toBe(false)
  })

  test('never sent: news naming it cannot be about it; the order stays Enqueued and is sent as before', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    const decision = harness.report(report(harness.order(orderId), { kind: 'new', execId: 'n1' }))
    expect(harness.eventTypes(decision)).not.toContain('order.unknown')
    expect(harness.order(orderId).status).toBe('Enqueued')
    expect(harness.next()).toMatchObject({ kind: 'place', orderId })
  })
})
