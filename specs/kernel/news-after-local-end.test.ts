/**
 * Venue news about an order egress ended on its own word after a send (src/kernel/inbox.ts provesAtVenue): an order
 * waiting in Enqueued to go out again — a resend after reconciliation found it "not at the venue", a place answered
 * retryable — that a cancel, a flatten or a mode escalation ends locally, or that the I-100 gate rejects at the send
 * (data health is re-run there). The venue may hold an earlier copy after all (the reason news moves a waiting order to
 * Unknown); its report must bring the order back, holding its worst case (with the cancel still wanted, if it was
 * canceled), and its fill must be booked — not taken as a late ack of a done order, nor refused. (Egress now reads
 * such a waiting order back instead of canceling it on the spot, cancel-after-send.test.ts, or rejecting it at a
 * blocked send, gate-blocked-resend.test.ts; a log written before still holds the local end, which these cases replay.)
 */

import { describe, expect, test } from 'bun:test'
import { balanceRowsOf } from '../../src/backoffice/balances.ts'
import { ledgerVsKernel } from '../../src/backoffice/internal-checks.ts'
import { initialLedger } from '../../src/backoffice/ledger-state.ts'
import type { ReasonCode } from '../../src/domain/reasons.ts'
import { applyInPlace, decide } from '../../src/kernel/index.ts'
import { foldOn } from '../backoffice/kernel-log-fold.ts'
import { d, Harness, market, paperFacts, report, resentOrder } from './fixtures.ts'

const worstCase = d('50050')

/**
 * The waiting order canceled on the spot, as egress recorded it before such an order was read back instead
 * (cancel.ts): a log written then still holds this record, and replays it.
 */
function canceledAsRecordedBefore(harness: Harness, orderId: string, reason: ReasonCode & ('CANCELED_BEFORE_SEND' | 'MODE_ESCALATED')): void {
  const event = { type: 'order.canceled' as const, atMs: harness.nowMs, orderId, reason, source: 'local' as const }
  applyInPlace(harness.state, event, { lsn: harness.state.lastLsn + 1 })
  harness.log.push(event)
}

/** The back office's own reservation rules (src/backoffice/orders.ts) hold what the kernel holds: its breaks. */
function backOfficeAgrees(harness: Harness): unknown[] {
  return ledgerVsKernel(balanceRowsOf(foldOn(initialLedger(), harness, 1)), harness.state)
}

describe('news about an order egress canceled after a send (a log written before such an order was read back instead) brings it back with its cancel wanted', () => {
  test('a resent order canceled by a mode escalation: the original copy\'s `new` holds it again and cancels it at the venue', () => {
    const harness = Harness.funded()
    const orderId = resentOrder(harness)
    canceledAsRecordedBefore(harness, orderId, 'MODE_ESCALATED')
    expect(harness.order(orderId)).toMatchObject({ status: 'Canceled', lastReason: 'MODE_ESCALATED' })
    expect(harness.reserved('USD')).toBe(0n)

    const news = harness.report(report(harness.order(orderId), { kind: 'new', execId: 'n1', venueOrderId: 'v-7' }))
    expect(harness.eventTypes(news).slice(0, 3)).toEqual(['inbox.report_accepted', 'order.unknown', 'order.cancel_requested'])
    expect(harness.order(orderId)).toMatchObject({ status: 'CancelRequested', venueOrderId: 'v-7', cancelWanted: true })
    expect(harness.reserved('USD')).toBe(worstCase)
    expect(harness.next()).toMatchObject({ orderId, kind: 'cancel', lane: 0 })
    expect(backOfficeAgrees(harness)).toEqual([])
  })

  test('a resent order canceled by its owner: the original copy\'s partial fill is booked, the rest held and canceled at the venue', () => {
    const harness = Harness.funded()
    const orderId = resentOrder(harness)
    canceledAsRecordedBefore(harness, orderId, 'CANCELED_BEFORE_SEND')
    expect(harness.order(orderId)).toMatchObject({ status: 'Canceled', lastReason: 'CANCELED_BEFORE_SEND' })
    const order = harness.order(orderId)
    const half = order.qty / 2n
    harness.report(report(order, { kind: 'fill', execId: 'f1', lastQty: half, lastPrice: d('50000'), cumQty: half, fee: d('1'), feeAsset: 'USD' }))
    expect(harness.order(orderId)).toMatchObject({ status: 'CancelRequested', cumQty: half })
    expect(harness.reserved('USD')).toBe(worstCase / 2n)
    expect(harness.next()).toMatchObject({ orderId, kind: 'cancel' })
    expect(backOfficeAgrees(harness)).toEqual([])
  })

  test('news that leaves it Unknown keeps the cancel wanted: reconciliation finding it open cancels it', () => {
    const harness = Harness.funded()
    const orderId = resentOrder(harness)
    harness.cancel(orderId)
    harness.report(report(harness.order(orderId), { kind: 'cancel_rejected', execId: 'x1', reason: 'too late' }))
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true })
    expect(harness.reserved('USD')).toBe(worstCase)
    const { venueClientOrderId: clientOrderId, accountId: account, symbol, side, qty } = harness.order(orderId)
    const venueOrder = { venueOrderId: 'v-7', clientOrderId, account, symbol, side, qty, status: 'open' as const, cumQty: 0n }
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder, trades: [] })
    expect(harness.order(orderId).status).toBe('CancelRequested')
  })

  test('an order never sent and canceled: news naming it is about something else and changes nothing', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.cancel(orderId)
    const news = harness.report(report(harness.order(orderId), { kind: 'new', execId: 'n1', venueOrderId: 'v-7' }))
    expect(harness.eventTypes(news)).not.toContain('order.unknown')
    expect(harness.order(orderId).status).toBe('Canceled')
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('an order the venue canceled: a late `new` is old news and changes nothing', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    harness.send(orderId)
    harness.report(report(harness.order(orderId), { kind: 'canceled', execId: 'c1', venueOrderId: 'v-7' }))
    const news = harness.report(report(harness.order(orderId), { kind: 'new', execId: 'n1', venueOrderId: 'v-7' }))
    expect(harness.eventTypes(news)).not.toContain('order.unknown')
    expect(harness.order(orderId).status).toBe('Canceled')
  })
})

describe('news about an order the I-100 gate rejected at its send again (a log written before such an order was read back instead)', () => {
  test('a resend blocked by stale data (Rejected, GATE_BLOCKED): the original copy\'s fill is booked, the rest held', () => {
    const harness = Harness.funded()
    const orderId = resentOrder(harness)
    harness.nowMs += 60_000
    const stale = market('50000', { observedAtMs: harness.nowMs - 60_000 })
    // The block as recorded before (send.ts now moves such an order to Unknown first: gate-blocked-resend.test.ts):
    // this build's send_blocked without the Unknown before it, which replays as the rejection it was.
    const decided = decide(harness.state, { kind: 'send', nowMs: harness.nowMs, orderId, action: 'place', facts: paperFacts, market: stale })
    const blocked = decided.events.find((event) => event.type === 'order.send_blocked')
    if (blocked === undefined) throw new Error('expected the gate to block the send')
    applyInPlace(harness.state, blocked, { lsn: harness.state.lastLsn + 1 })
    harness.log.push(blocked)
    expect(harness.order(orderId)).toMatchObject({ status: 'Rejected', lastReason: 'GATE_BLOCKED', sendAttempts: 1 })
    expect(harness.reserved('USD')).toBe(0n)

    const order = harness.order(orderId)
    const half = order.qty / 2n
    const news = harness.report(report(order, { kind: 'fill', execId: 'f1', lastQty: half, lastPrice: d('50000'), cumQty: half, fee: d('1'), feeAsset: 'USD' }))
    expect(harness.eventTypes(news)).toEqual(['inbox.report_accepted', 'order.unknown', 'order.fill'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: half })
    expect(harness.reserved('USD')).toBe(worstCase / 2n)
    expect(backOfficeAgrees(harness)).toEqual([])
  })

})
