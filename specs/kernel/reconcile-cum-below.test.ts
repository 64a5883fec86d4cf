/**
 * A read-back whose venue CumQty is below what egress booked: the venue took back (a trade bust) or cut (a correction)
 * a fill egress booked. Before, reconcile said nothing: an order whose state matched the venue's was left as it was,
 * one whose state differed converged as if the two agreed, and the overstated position and funds were seen by no one.
 * Now the first such answer raises RECONCILE_CUM_BELOW (an anomaly: alert, Unknown) and the order takes the venue's
 * state under that reason; nothing is reversed, and a repeat of the answer is not alerted again (kernel/reconcile.ts
 * cumBelow).
 */

import { describe, expect, test } from 'bun:test'
import { d, Harness, report } from './fixtures.ts'
import { venueOrderOf } from './venue-fixtures.ts'

function filledOrder(harness: Harness, qty: string): string {
  const orderId = harness.openOrder()
  harness.report(report(harness.order(orderId), { kind: 'fill', execId: 'f1', lastQty: d(qty), lastPrice: d('50000'), cumQty: d(qty) }))
  harness.nowMs += 1_000
  return orderId
}

describe('reconcile: the venue counts less filled than egress booked', () => {
  test('a Filled order whose fill the venue busted raises RECONCILE_CUM_BELOW naming both quantities; its fill and funds stay as booked', () => {
    const harness = Harness.funded()
    const orderId = filledOrder(harness, '0.1')
    const btcBefore = harness.balance('BTC')
    const usdBefore = harness.balance('USD')
    const decision = harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: venueOrderOf(harness, orderId, { status: 'filled', cumQty: 0n }), trades: [] })
    expect(harness.eventTypes(decision)).toEqual(['alert.raised', 'order.unknown', 'order.reconciled'])
    expect(decision.events[0]).toMatchObject({ reason: 'RECONCILE_CUM_BELOW', orderId, detail: expect.stringContaining('venue cumQty 0 is below the 0.1 egress booked') })
    expect(decision.events[2]).toMatchObject({ to: 'Filled', reason: 'RECONCILE_CUM_BELOW' })
    expect(harness.order(orderId)).toMatchObject({ status: 'Filled', cumQty: d('0.1'), lastReason: 'RECONCILE_CUM_BELOW' })
    expect([harness.balance('BTC'), harness.balance('USD')]).toEqual([btcBefore, usdBefore])
  })

  test('a Partial order read back open with nothing filled is alerted once: the sweep reading it back again adds nothing', () => {
    const harness = Harness.funded()
    const orderId = filledOrder(harness, '0.04')
    expect(harness.order(orderId).status).toBe('Partial')
    const answer = () => harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: venueOrderOf(harness, orderId, { status: 'open', cumQty: 0n }), trades: [] })
    const first = answer()
    expect(harness.eventTypes(first)).toEqual(['alert.raised', 'order.unknown', 'order.reconciled'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: d('0.04') })
    harness.nowMs += 60_000
    expect(answer().events).toEqual([])
    expect(harness.log.filter((event) => event.type === 'alert.raised' && event.reason === 'RECONCILE_CUM_BELOW')).toHaveLength(1)
  })

  test('a Partial order the venue now reports canceled with nothing filled ends Canceled under RECONCILE_CUM_BELOW: alerted, nothing reversed', () => {
    const harness = Harness.funded()
    const orderId = filledOrder(harness, '0.04')
    const decision = harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: venueOrderOf(harness, orderId, { status: 'canceled', cumQty: 0n }), trades: [] })
    expect(harness.eventTypes(decision)).toEqual(['alert.raised', 'order.unknown', 'order.reconciled'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Canceled', cumQty: d('0.04'), lastReason: 'RECONCILE_CUM_BELOW' })
  })

  test('a read-back that agrees with what egress booked raises nothing', () => {
    const harness = Harness.funded()
    const orderId = filledOrder(harness, '0.04')
    const decision = harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: venueOrderOf(harness, orderId, { status: 'partially_filled', cumQty: d('0.04') }), trades: [] })
    expect(decision.events).toEqual([])
  })
})
