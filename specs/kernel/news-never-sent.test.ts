/**
 * Venue news naming an order egress never sent. Egress calls a venue only after the order's send record is durable
 * (the outbox rule), and only the lease holder writes the log: an order with no send recorded (sendAttempts 0) cannot
 * be at any venue. A report naming it is about something else (a garbled or forged report, another system using the
 * id) and is an orphan: recorded, alerted (REPORT_ORPHANED, naming the order), and it moves and books nothing. Before,
 * a `new` for an order the I-100 gate rejected at its first send moved it to Unknown and held its worst case again
 * until a read-back ended it, and a fill for an order canceled before its send was booked into the ledger.
 */

import { describe, expect, test } from 'bun:test'
import { isOrphanReport } from '../../src/kernel/index.ts'
import { d, Harness, market, paperFacts, report } from './fixtures.ts'

function gateRejected(harness: Harness): string {
  const orderId = harness.placedId({ qty: '1', price: '50000' })
  harness.nowMs += 60_000
  harness.run({ kind: 'send', nowMs: harness.nowMs, orderId, action: 'place', facts: paperFacts, market: market('50000', { observedAtMs: harness.nowMs - 60_000 }) })
  expect(harness.order(orderId)).toMatchObject({ status: 'Rejected', sendAttempts: 0 })
  return orderId
}

describe('news about an order never sent', () => {
  test('a `new` for an order the gate rejected at its first send is an orphan: it stays Rejected, holding nothing', () => {
    const harness = Harness.funded()
    const orderId = gateRejected(harness)
    const news = report(harness.order(orderId), { kind: 'new', execId: 'n1', venueOrderId: 'v-7' })
    expect(isOrphanReport(harness.state, news)).toBe(true)
    const decision = harness.report(news)
    expect(harness.eventTypes(decision)).toEqual(['inbox.report_accepted', 'alert.raised'])
    expect(decision.events[1]).toMatchObject({ reason: 'REPORT_ORPHANED' })
    expect(JSON.stringify(decision.events[1])).toContain(orderId)
    expect(harness.order(orderId)).toMatchObject({ status: 'Rejected', venueOrderId: null })
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('a fill for an order canceled before its send is an orphan: nothing is booked', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId({ qty: '1', price: '50000' })
    harness.cancel(orderId)
    const balanceBefore = harness.state.accounts.get('acct-1')?.balances.get('USD')
    const fill = report(harness.order(orderId), { kind: 'fill', execId: 'f1', lastQty: d('0.5'), lastPrice: d('50000'), cumQty: d('0.5'), fee: d('1'), feeAsset: 'USD' })
    harness.report(fill)
    expect(harness.order(orderId)).toMatchObject({ status: 'Canceled', cumQty: 0n })
    expect(harness.state.accounts.get('acct-1')?.balances.get('USD')).toBe(balanceBefore)
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('a report for an order still waiting for its first send moves nothing, and the order is sent as usual', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId({ qty: '1', price: '50000' })
    harness.report(report(harness.order(orderId), { kind: 'new', execId: 'n1', venueOrderId: 'v-7' }))
    expect(harness.order(orderId)).toMatchObject({ status: 'Enqueued', venueOrderId: null })
    expect(harness.next()).toMatchObject({ orderId, kind: 'place' })
  })
})
