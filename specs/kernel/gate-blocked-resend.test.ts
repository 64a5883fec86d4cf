/**
 * A place the I-100 gate blocks at its send ends the order Rejected only when the order was never sent. One sent before
 * and waiting to go out again — a resend after reconciliation proved it absent, a place the venue answered retryable —
 * is never ended on egress's word (cancel.ts, results.ts): it goes Unknown, holding its worst case, and is read back.
 * Not found after the grace, it ends Failed and not at the venue: resendable, as a resend refused in resend.ts leaves
 * it; found, it converges to what the venue holds. Before, it ended Rejected (GATE_BLOCKED): not resendable, holding
 * nothing, and nothing would read it back.
 */

import { describe, expect, test } from 'bun:test'
import { balanceRowsOf } from '../../src/backoffice/balances.ts'
import { ledgerVsKernel } from '../../src/backoffice/internal-checks.ts'
import { initialLedger } from '../../src/backoffice/ledger-state.ts'
import { resendable } from '../../src/kernel/reconcile.ts'
import { foldOn } from '../backoffice/kernel-log-fold.ts'
import { admin, d, Harness, market, paperFacts, report, resentOrder } from './fixtures.ts'

const worstCase = d('50050')

/** The send decided with a reference price a minute old: the gate's guards_pass check refuses it (DATA_STALE). */
function sendStale(harness: Harness, orderId: string): ReturnType<Harness['run']> {
  harness.nowMs += 60_000
  const stale = market('50000', { observedAtMs: harness.nowMs - 60_000 })
  return harness.run({ kind: 'send', nowMs: harness.nowMs, orderId, action: 'place', facts: paperFacts, market: stale })
}

function backOfficeAgrees(harness: Harness): unknown[] {
  return ledgerVsKernel(balanceRowsOf(foldOn(initialLedger(), harness, 1)), harness.state)
}

describe('a place the gate blocks after the order was sent before', () => {
  test('a blocked resend goes Unknown, holds its worst case, and is read back: not found, it is Failed and resendable again', () => {
    const harness = Harness.funded()
    const orderId = resentOrder(harness)
    const blocked = sendStale(harness, orderId)
    expect(harness.eventTypes(blocked)).toEqual(['order.unknown', 'order.send_blocked'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', lastReason: 'GATE_BLOCKED', sendAttempts: 1 })
    expect(harness.reserved('USD')).toBe(worstCase)
    expect(harness.next()).toMatchObject({ orderId, kind: 'reconcile' })
    expect(backOfficeAgrees(harness)).toEqual([])

    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: null, trades: [] })
    expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true })
    expect(resendable(harness.order(orderId))).toBe(true)
    expect(harness.reserved('USD')).toBe(0n)
    expect(backOfficeAgrees(harness)).toEqual([])
    const again = harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: admin, orderId, market: market('50000', { observedAtMs: harness.nowMs }) })
    expect(again.reply.kind).toBe('done')
    expect(harness.order(orderId).status).toBe('Enqueued')
  })

  test('a blocked retry of a place the venue throttled goes Unknown; read back open at the venue, it is AckedOpen', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId({ qty: '1', price: '50000' })
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'retryable', reason: 'throttled', retryAfterMs: 100 })
    expect(harness.order(orderId)).toMatchObject({ status: 'Enqueued', sendAttempts: 1 })
    sendStale(harness, orderId)
    expect(harness.order(orderId).status).toBe('Unknown')
    expect(harness.reserved('USD')).toBe(worstCase)
    const { venueClientOrderId: clientOrderId, accountId: account, symbol, side, qty } = harness.order(orderId)
    const venueOrder = { venueOrderId: 'v-9', clientOrderId, account, symbol, side, qty, status: 'open' as const, cumQty: 0n }
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder, trades: [] })
    expect(harness.order(orderId)).toMatchObject({ status: 'AckedOpen', venueOrderId: 'v-9' })
    expect(harness.reserved('USD')).toBe(worstCase)
    expect(backOfficeAgrees(harness)).toEqual([])
  })

  test('a resend blocked by check 8 (VENUE_HEALTH_CRITICAL) goes Unknown as well, and a fill of its earlier copy is booked', () => {
    // So an order sent before is never Rejected for a sick venue, and inbox.ts ENDED_UNSENT needs no VENUE_HEALTH_CRITICAL.
    const harness = Harness.funded()
    const orderId = resentOrder(harness)
    harness.venueHealth('CRITICAL')
    const blocked = harness.send(orderId)
    expect(harness.eventTypes(blocked)).toEqual(['order.unknown', 'order.send_blocked'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', lastReason: 'VENUE_HEALTH_CRITICAL', sendAttempts: 1 })
    expect(harness.reserved('USD')).toBe(worstCase)
    const fill = report(harness.order(orderId), { execId: 'f-1', kind: 'fill', lastQty: d('0.5'), lastPrice: d('50000'), cumQty: d('0.5') })
    harness.report(fill)
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: d('0.5') })
    expect(backOfficeAgrees(harness)).toEqual([])
  })

  test('a place never sent and blocked is still Rejected, its reservation released', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId({ qty: '1', price: '50000' })
    sendStale(harness, orderId)
    expect(harness.order(orderId)).toMatchObject({ status: 'Rejected', lastReason: 'GATE_BLOCKED', sendAttempts: 0 })
    expect(harness.reserved('USD')).toBe(0n)
  })
})
