/**
 * A `rejected` report answers an order's place. An order the venue acknowledged (or filled) was taken, so a reject of
 * it contradicts what egress holds: from AckedOpen, Partial or CancelPending the table refuses it (TRANSITION_REFUSED,
 * Unknown, read back). The table lets a reject end CancelRequested — for a cancel asked before the place was answered —
 * and that order may be acknowledged by then too: such a reject ended it Rejected on the spot, its reservation released
 * and its cancel dropped, with no alert and no read-back, while the venue may still hold it open (kernel review). It is
 * refused as from the other states now; a reject of a place still unanswered ends the order as before.
 */

import { describe, expect, test } from 'bun:test'
import { d, Harness, report } from './fixtures.ts'
import { venueOrderOf } from './venue-fixtures.ts'

function rejectReport(harness: Harness, orderId: string, cumQty = 0n) {
  return harness.report(report(harness.order(orderId), { kind: 'rejected', execId: 'rej-1', reason: 'no', cumQty }))
}

describe('a rejected report for an order with a cancel asked', () => {
  test('acknowledged: refused, the order Unknown holding its worst case, and its cancel goes out once read back open', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const held = harness.reserved('USD')
    harness.cancel(orderId)
    expect(harness.order(orderId).status).toBe('CancelRequested')
    const decision = rejectReport(harness, orderId)
    expect(harness.eventTypes(decision)).toEqual(['inbox.report_accepted', 'order.transition_refused', 'alert.raised', 'order.unknown'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true })
    expect(harness.reserved('USD')).toBe(held)
    harness.nowMs += 10
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: venueOrderOf(harness, orderId), trades: [] })
    expect(harness.order(orderId).status).toBe('CancelRequested')
    expect(harness.next()).toMatchObject({ orderId, kind: 'cancel' })
  })

  test('filled in part before any ack: refused, the fill kept', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.report(report(harness.order(orderId), { kind: 'fill', execId: 'f-1', lastQty: d('0.02'), lastPrice: d('50000'), cumQty: d('0.02') }))
    harness.cancel(orderId)
    expect(harness.order(orderId)).toMatchObject({ status: 'CancelRequested', venueOrderId: null })
    rejectReport(harness, orderId, d('0.02'))
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cumQty: d('0.02'), cancelWanted: true })
  })

  test('its place still unanswered: the reject ends the order Rejected, as before', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.cancel(orderId)
    rejectReport(harness, orderId)
    expect(harness.order(orderId).status).toBe('Rejected')
    expect(harness.reserved('USD')).toBe(0n)
  })
})
