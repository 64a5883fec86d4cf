/**
 * A real fill's `order.fill` records its place in the venue's cumulative quantity (`venueCumQty`, payload version 11;
 * src/kernel/inbox.ts emitOwnFill): the venue cumulative quantity through the fill, whose top `lastQty` the record
 * books. The back office places synthetic fills by it (src/backoffice/venue-ranges.ts). A synthetic fill records none:
 * its cumQty is the venue's.
 */
import { describe, expect, test } from 'bun:test'
import type { DomainEvent, EventOf } from '../../src/domain/events/index.ts'
import { d, Harness } from './fixtures.ts'
import { realFillReport, statusOnlyReconcile, venueOrderOf, venueTradeOf } from './venue-fixtures.ts'

function fillsOf(events: readonly DomainEvent[]): [string, bigint, bigint | undefined][] {
  return events.filter((event): event is EventOf<'order.fill'> => event.type === 'order.fill').map((fill) => [fill.execId, fill.lastQty, fill.venueCumQty])
}

describe('a real fill records its place in the venue cumulative quantity', () => {
  test('a report: its CumQty, also when it came before a report of a lower range', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ qty: '0.3' })
    realFillReport(harness, orderId, { execId: 'f2', lastQty: '0.1', cumQty: '0.2' })
    realFillReport(harness, orderId, { execId: 'f1', lastQty: '0.1', cumQty: '0.1' })
    expect(fillsOf(harness.log)).toEqual([['f2', d('0.1'), d('0.2')], ['f1', d('0.1'), d('0.1')]])
  })

  test('a report straddling a synthetic fill: the part above it, at the top of its range; the synthetic fill, none', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ qty: '0.3' })
    statusOnlyReconcile(harness, orderId, '0.15')
    realFillReport(harness, orderId, { execId: 'f1', lastQty: '0.2', cumQty: '0.2' })
    const fills = fillsOf(harness.log)
    expect(fills[0]?.[2]).toBeUndefined()
    expect(fills[1]).toEqual(['f1', d('0.05'), d('0.2')])
  })

  test('a read-back\'s trades: each at the running total of the order\'s trades', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ qty: '0.3' })
    harness.nowMs += 5_000
    const trades = [venueTradeOf(harness, orderId, 't1', '0.1', { venueTimeMs: harness.nowMs - 2 }), venueTradeOf(harness, orderId, 't2', '0.05', { venueTimeMs: harness.nowMs - 1 })]
    const venueOrder = venueOrderOf(harness, orderId, { venueOrderId: `v-${orderId}`, cumQty: d('0.15'), status: 'partially_filled' })
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 20, orderId, venueOrder, trades })
    expect(fillsOf(harness.log)).toEqual([['t1', d('0.1'), d('0.1')], ['t2', d('0.05'), d('0.15')]])
  })
})
