/**
 * paper → live ends the work decided in paper (mode-escalation.ts), and that includes a place whose outcome was
 * Unknown at the change: read back absent, it was Failed and resendable, and a resend (an operator's — here one not
 * allowed to trade live —, or a start's, which resends its suspects on its own) sent the paper decision of a principal
 * not allowed to trade live to the venue under live, every check of the gate passing. Now the change asks its cancel
 * (MODE_ESCALATED): absent it ends Failed with the cancel wanted, not resendable; found open it is canceled there. An
 * Unknown order the venue acknowledged is at the venue, and is left alone, as resting orders are.
 */

import { describe, expect, test } from 'bun:test'
import { admin, d, Harness, market, ops, paperFacts, trader } from './fixtures.ts'

const paperOnly = { ...trader, liveAllowed: false }

function escalate(harness: Harness) {
  return harness.run({ kind: 'set_mode', nowMs: harness.nowMs, principal: admin, mode: 'live', note: '' })
}

/** A paper order sent and answered unknown: Unknown, never acknowledged, waiting in Lane3 to be read back. */
function unknownPlace(harness: Harness): string {
  const orderId = harness.placedId({}, { principal: paperOnly })
  harness.send(orderId)
  harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
  expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', venueOrderId: null })
  return orderId
}

describe('a place Unknown at paper → live', () => {
  test('gets its cancel asked; read back absent, it is not resendable and nothing goes out under live', () => {
    const harness = Harness.funded()
    const orderId = unknownPlace(harness)
    expect(harness.eventTypes(escalate(harness))).toEqual(['order.cancel_requested', 'mode.changed'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: true, lastReason: 'MODE_ESCALATED' })
    harness.nowMs += 5_000
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: null, trades: [] })
    expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true, cancelWanted: true })
    const resend = harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: ops, orderId, market: market('50000', { observedAtMs: harness.nowMs }) })
    expect(resend.reply).toMatchObject({ kind: 'refused', reason: 'ORDER_NOT_RESENDABLE' })
    expect(harness.order(orderId).status).toBe('Failed')
    expect(harness.next()).toBeNull()
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('found open at the venue, it is canceled there', () => {
    const harness = Harness.funded()
    const orderId = unknownPlace(harness)
    escalate(harness)
    harness.nowMs += 5_000
    const order = harness.order(orderId)
    harness.run({
      kind: 'reconcile_result',
      nowMs: harness.nowMs,
      orderId,
      venueOrder: { clientOrderId: order.venueClientOrderId, venueOrderId: 'v-1', account: order.accountId, symbol: order.symbol, side: order.side, qty: order.qty, price: d('50000'), cumQty: 0n, status: 'open' },
      trades: [],
    })
    expect(harness.order(orderId)).toMatchObject({ status: 'CancelRequested', cancelWanted: true })
    expect(harness.next()).toMatchObject({ lane: 0, kind: 'cancel', orderId })
    const send = harness.send(orderId, 'cancel', paperFacts)
    expect(harness.eventTypes(send)).toEqual(['order.cancel_send_requested'])
  })

  test('an Unknown order the venue acknowledged stays at the venue, its cancel not asked', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.amend(orderId, { qty: '0.2' })
    harness.send(orderId, 'amend')
    harness.amendResult(orderId, { kind: 'unknown', reason: 'timeout' })
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: false })
    expect(harness.eventTypes(escalate(harness))).toEqual(['mode.changed'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', cancelWanted: false })
  })
})
