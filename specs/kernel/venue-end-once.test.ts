/**
 * A venue ends an order once, however many times it says so. A second `canceled` or `expired` report (a repeat under a
 * new execution id, or one landing after a read-back already ended the order) is the same end told again: it records
 * only its inbox.report_accepted. Before, it recorded a second `order.canceled` / `order.expired` (the table allows
 * Canceled → Canceled and Expired → Expired), so /explain and the audit showed two ends. Logs holding that second
 * record still replay, to the same state. The cancel call's answer never ends an order (it records order.cancel_acked,
 * or nothing once a report ended it): either order of arrival records one end.
 */

import { describe, expect, test } from 'bun:test'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import type { VenueOrder } from '../../src/venues/adapter.ts'
import { expectSameStateWith } from './expect-same-state.ts'
import { d, Harness, report } from './fixtures.ts'

const CANCEL_OK = { kind: 'ok', value: { accepted: true } } as const

/** An open order whose cancel went out: CancelPending. */
function cancelSent(harness: Harness): string {
  const orderId = harness.openOrder()
  harness.cancel(orderId)
  harness.send(orderId, 'cancel')
  return orderId
}

function endReport(harness: Harness, orderId: string, kind: 'canceled' | 'expired', execId: string) {
  return harness.report(report(harness.order(orderId), { kind, execId, venueOrderId: `v-${orderId}` }))
}

/** Reconciliation reads the (Unknown) order back from the venue as `status`, nothing filled. */
function readBack(harness: Harness, orderId: string, status: 'canceled' | 'expired'): void {
  const order = harness.order(orderId)
  const venueOrder: VenueOrder = { clientOrderId: order.venueClientOrderId, venueOrderId: `v-${orderId}`, account: order.accountId, symbol: order.symbol, side: order.side, qty: order.qty, price: order.price ?? d('50000'), cumQty: 0n, status }
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder, trades: [] })
}

function ends(log: readonly DomainEvent[], orderId: string): string[] {
  return log.flatMap((event) => ((event.type === 'order.canceled' || event.type === 'order.expired') && event.orderId === orderId ? [event.type] : []))
}

describe('a venue cancel is recorded once', () => {
  test("the cancel's answer first, then the report: one order.canceled", () => {
    const harness = Harness.funded()
    const orderId = cancelSent(harness)
    expect(harness.eventTypes(harness.cancelResult(orderId, CANCEL_OK))).toEqual(['order.cancel_acked', 'order.call_completed'])
    endReport(harness, orderId, 'canceled', 'c-1')
    expect(harness.order(orderId).status).toBe('Canceled')
    expect(ends(harness.log, orderId)).toEqual(['order.canceled'])
  })

  test("the report first, then the cancel's answer: one order.canceled, the answer records only its call's end", () => {
    const harness = Harness.funded()
    const orderId = cancelSent(harness)
    endReport(harness, orderId, 'canceled', 'c-1')
    expect(harness.eventTypes(harness.cancelResult(orderId, CANCEL_OK))).toEqual(['order.call_completed'])
    expect(harness.order(orderId).status).toBe('Canceled')
    expect(ends(harness.log, orderId)).toEqual(['order.canceled'])
  })

  test('a repeated canceled report (a new execution id) records only its inbox.report_accepted', () => {
    const harness = Harness.funded()
    const orderId = cancelSent(harness)
    harness.cancelResult(orderId, CANCEL_OK)
    endReport(harness, orderId, 'canceled', 'c-1')
    const repeat = endReport(harness, orderId, 'canceled', 'c-2')
    expect(harness.eventTypes(repeat)).toEqual(['inbox.report_accepted'])
    expect(repeat.events[0]).toMatchObject({ report: { kind: 'canceled', execId: 'c-2' } })
    expect(harness.order(orderId)).toMatchObject({ status: 'Canceled', lastReason: 'VENUE_CANCELED' })
    expect(harness.reserved('USD')).toBe(0n)
    expect(ends(harness.log, orderId)).toEqual(['order.canceled'])
  })

  test('a canceled report after a read-back ended the order Canceled records no order.canceled', () => {
    const harness = Harness.funded()
    const orderId = cancelSent(harness)
    harness.cancelResult(orderId, { kind: 'unknown', reason: 'timeout' })
    expect(harness.order(orderId).status).toBe('Unknown')
    readBack(harness, orderId, 'canceled')
    expect(harness.order(orderId).status).toBe('Canceled')
    const lastReason = harness.order(orderId).lastReason
    expect(harness.eventTypes(endReport(harness, orderId, 'canceled', 'c-1'))).toEqual(['inbox.report_accepted'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Canceled', lastReason })
    expect(ends(harness.log, orderId)).toEqual([])
  })

  test('a repeated canceled report stating fills egress has not booked still makes the order Unknown (FILLS_MISSED)', () => {
    const harness = Harness.funded()
    const orderId = cancelSent(harness)
    endReport(harness, orderId, 'canceled', 'c-1')
    const late = harness.report(report(harness.order(orderId), { kind: 'canceled', execId: 'c-2', venueOrderId: `v-${orderId}`, cumQty: d('0.02') }))
    expect(harness.eventTypes(late)).toEqual(['inbox.report_accepted', 'alert.raised', 'order.unknown'])
    expect(harness.order(orderId).status).toBe('Unknown')
  })

  test('a log holding the second order.canceled (written before) still replays, to the same state', () => {
    const harness = Harness.funded()
    const orderId = cancelSent(harness)
    endReport(harness, orderId, 'canceled', 'c-1')
    endReport(harness, orderId, 'canceled', 'c-2')
    expectSameStateWith(harness, orderId, { type: 'order.canceled', atMs: harness.nowMs, orderId, reason: 'VENUE_CANCELED', source: 'venue' })
  })
})

describe('a venue expiry is recorded once', () => {
  test('a repeated expired report (a new execution id) records only its inbox.report_accepted', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    endReport(harness, orderId, 'expired', 'x-1')
    const repeat = endReport(harness, orderId, 'expired', 'x-2')
    expect(harness.eventTypes(repeat)).toEqual(['inbox.report_accepted'])
    expect(harness.order(orderId).status).toBe('Expired')
    expect(harness.reserved('USD')).toBe(0n)
    expect(ends(harness.log, orderId)).toEqual(['order.expired'])
  })

  test('an expired report after a read-back ended the order Expired records no order.expired', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
    readBack(harness, orderId, 'expired')
    expect(harness.order(orderId).status).toBe('Expired')
    expect(harness.eventTypes(endReport(harness, orderId, 'expired', 'x-1'))).toEqual(['inbox.report_accepted'])
    expect(ends(harness.log, orderId)).toEqual([])
  })

  test('a log holding the second order.expired (written before) still replays, to the same state', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    endReport(harness, orderId, 'expired', 'x-1')
    endReport(harness, orderId, 'expired', 'x-2')
    expectSameStateWith(harness, orderId, { type: 'order.expired', atMs: harness.nowMs, orderId })
  })
})
