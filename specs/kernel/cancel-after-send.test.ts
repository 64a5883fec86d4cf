/**
 * An order sent before is never ended on egress's word alone (src/kernel/cancel.ts, mode-escalation.ts, results.ts):
 * an order waiting in Enqueued to go out again — a resend after reconciliation found it "not at the venue", a place
 * the venue answered retryable — that its owner, a flatten or a mode escalation cancels, and a place answered retryable
 * while a cancel was wanted, may have an earlier copy live at the venue. Each goes to Unknown with the cancel wanted,
 * holding its worst case, and is read back: not found after the grace it ends Failed (not at the venue, not
 * resendable), found open its cancel goes out in Lane0, found filled the fill is booked. An order never sent is
 * canceled on the spot, as before.
 */

import { describe, expect, test } from 'bun:test'
import { balanceRowsOf } from '../../src/backoffice/balances.ts'
import { ledgerVsKernel } from '../../src/backoffice/internal-checks.ts'
import { initialLedger } from '../../src/backoffice/ledger-state.ts'
import type { Principal } from '../../src/domain/accounts.ts'
import type { VenueOrder } from '../../src/venues/adapter.ts'
import { resendable } from '../../src/kernel/reconcile.ts'
import { foldOn } from '../backoffice/kernel-log-fold.ts'
import { ACCOUNT, admin, d, Harness, market, ops } from './fixtures.ts'

const GRACE_MS = 5_000
const worstCase = d('50050')

/** An order sent, answered unknown, read back "not found" (Failed, not at the venue) and resent: Enqueued, attempt 1. */
function resentOrder(harness: Harness): string {
  const orderId = harness.placedId({ qty: '1', price: '50000' })
  harness.send(orderId)
  harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
  harness.nowMs += GRACE_MS
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: null, trades: [] })
  harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: admin, orderId, market: market('50000', { observedAtMs: harness.nowMs }) })
  expect(harness.order(orderId)).toMatchObject({ status: 'Enqueued', sendAttempts: 1 })
  return orderId
}

/** An order sent once and answered retryable: Enqueued, attempt 1, waiting for its retry. */
function retriedOrder(harness: Harness): string {
  const orderId = harness.placedId({ qty: '1', price: '50000' })
  harness.send(orderId)
  harness.placeResult(orderId, { kind: 'retryable', reason: '429', retryAfterMs: 100 })
  expect(harness.order(orderId)).toMatchObject({ status: 'Enqueued', sendAttempts: 1 })
  return orderId
}

function readBack(harness: Harness, orderId: string, venueOrder: VenueOrder | null): void {
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder, trades: [] })
}

function venueOrderOf(harness: Harness, orderId: string, status: VenueOrder['status'], cumQty: bigint): VenueOrder {
  const { venueClientOrderId: clientOrderId, accountId: account, symbol, side, qty, price } = harness.order(orderId)
  return { venueOrderId: 'v-7', clientOrderId, account, symbol, side, qty, status, cumQty, ...(price === null ? {} : { price }) }
}

/** The back office's own reservation rules (src/backoffice/orders.ts) hold what the kernel holds: its breaks. */
function backOfficeAgrees(harness: Harness): unknown[] {
  return ledgerVsKernel(balanceRowsOf(foldOn(initialLedger(), harness, 1)), harness.state)
}

/** Held for read-back: Unknown, the cancel wanted, its worst case reserved, reconciliation (not a place) its work. */
function expectHeldForReadBack(harness: Harness, orderId: string, reason: string): void {
  expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true, lastReason: reason })
  expect(harness.reserved('USD')).toBe(worstCase)
  harness.nowMs += 1_000
  expect(harness.next()).toMatchObject({ orderId, lane: 3, kind: 'reconcile' })
  expect(backOfficeAgrees(harness)).toEqual([])
}

describe('a cancel of an order sent before reads it back instead of ending it', () => {
  test('its owner cancels a resent order: Unknown with the cancel wanted; absent after the grace it ends Failed, not resendable', () => {
    const harness = Harness.funded()
    const orderId = resentOrder(harness)
    const decision = harness.cancel(orderId)
    expect(harness.eventTypes(decision)).toEqual(['order.unknown', 'order.cancel_requested'])
    expectHeldForReadBack(harness, orderId, 'USER_CANCEL')
    // Within the grace of a fresh look the resent order's old send is long past: absence is proven at once.
    readBack(harness, orderId, null)
    expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true, cancelWanted: true, lastReason: 'RECONCILE_NOT_FOUND' })
    expect(resendable(harness.order(orderId))).toBe(false)
    expect(harness.reserved('USD')).toBe(0n)
    expect(backOfficeAgrees(harness)).toEqual([])
    // Repeating the cancel of the ended order changes nothing.
    expect(harness.cancel(orderId).events).toEqual([])
  })

  test('a flatten of a resent order: found open, its cancel goes out in Lane0', () => {
    const harness = Harness.funded()
    const orderId = resentOrder(harness)
    harness.run({ kind: 'flatten', nowMs: harness.nowMs, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: {} })
    expectHeldForReadBack(harness, orderId, 'FLATTEN_REQUESTED')
    // A repeated cancel while it is read back is done already.
    expect(harness.cancel(orderId)).toMatchObject({ events: [], reply: { kind: 'done' } })
    readBack(harness, orderId, venueOrderOf(harness, orderId, 'open', 0n))
    expect(harness.order(orderId)).toMatchObject({ status: 'CancelRequested', venueOrderId: 'v-7' })
    expect(harness.next()).toMatchObject({ orderId, lane: 0, kind: 'cancel' })
  })

  test('a mode escalation of a resent order: found filled, the fill is booked', () => {
    const harness = Harness.funded()
    const orderId = resentOrder(harness)
    const decision = harness.run({ kind: 'set_mode', nowMs: harness.nowMs, principal: admin, mode: 'live', note: '' })
    expect(harness.eventTypes(decision)).toEqual(['order.unknown', 'order.cancel_requested', 'mode.changed'])
    expectHeldForReadBack(harness, orderId, 'MODE_ESCALATED')
    readBack(harness, orderId, venueOrderOf(harness, orderId, 'filled', d('1')))
    expect(harness.order(orderId)).toMatchObject({ status: 'Filled', cumQty: d('1') })
    // Booked synthetically (no trades listed): its 10 bps fee allowance stays held until the real fill's true-up.
    expect(harness.reserved('USD')).toBe(d('50'))
    expect(harness.balance('BTC')).toBe(d('3'))
    expect(backOfficeAgrees(harness)).toEqual([])
  })

  test('its owner cancels an order waiting for its retry: read back within the grace is deferred, after it the order ends', () => {
    const harness = Harness.funded()
    const orderId = retriedOrder(harness)
    harness.cancel(orderId)
    expectHeldForReadBack(harness, orderId, 'USER_CANCEL')
    readBack(harness, orderId, null)
    expect(harness.order(orderId).status).toBe('Unknown')
    harness.nowMs += GRACE_MS
    readBack(harness, orderId, null)
    expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true, cancelWanted: true })
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('a place answered retryable while a cancel was wanted: Unknown, read back, never sent again', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId({ qty: '1', price: '50000' })
    harness.send(orderId)
    harness.cancel(orderId)
    expect(harness.order(orderId).status).toBe('CancelRequested')
    harness.placeResult(orderId, { kind: 'retryable', reason: '429', retryAfterMs: 100 })
    expectHeldForReadBack(harness, orderId, 'VENUE_OUTCOME_UNKNOWN')
    harness.nowMs += GRACE_MS
    readBack(harness, orderId, null)
    expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true, cancelWanted: true })
    expect(harness.next()).toBeNull()
  })

  test('an order never sent is canceled on the spot, by its owner and by a mode escalation', () => {
    const paperOnly: Principal = { id: 'pat', roles: ['trader'], accounts: [ACCOUNT], liveAllowed: false }
    const harness = Harness.funded()
    const canceled = harness.placedId()
    harness.cancel(canceled)
    expect(harness.order(canceled)).toMatchObject({ status: 'Canceled', lastReason: 'CANCELED_BEFORE_SEND' })
    const escalated = harness.placedId({ client_order_id: 'c2' }, { principal: paperOnly })
    harness.run({ kind: 'set_mode', nowMs: harness.nowMs, principal: admin, mode: 'live', note: '' })
    expect(harness.order(escalated)).toMatchObject({ status: 'Canceled', lastReason: 'MODE_ESCALATED' })
    expect(harness.reserved('USD')).toBe(0n)
  })
})
