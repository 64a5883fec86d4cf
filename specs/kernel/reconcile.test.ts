import { describe, expect, test } from 'bun:test'
import { resendable } from '../../src/kernel/index.ts'
import { formatDecimal } from '../../src/domain/decimal.ts'
import type { VenueOrder, VenueTrade } from '../../src/venues/adapter.ts'
import { d, Harness, market, report, trader } from './fixtures.ts'
import { unknownOrder, venueOrderOf, venueTradeOf } from './venue-fixtures.ts'

function reconcile(harness: Harness, orderId: string, venue: VenueOrder | null, trades: VenueTrade[] = []) {
  return harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: venue, trades })
}

describe('Unknown and reconciliation', () => {
  test('"not found" within the grace time is not proof: the decision is deferred and the reservation kept', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    harness.nowMs += 1_000
    const decision = reconcile(harness, orderId, null)
    expect(harness.eventTypes(decision)).toEqual(['order.reconcile_deferred'])
    expect(harness.order(orderId).status).toBe('Unknown')
    expect(harness.reserved('USD')).toBe(d('5005'))
    expect(harness.next()).toBeNull()
    harness.nowMs += 4_000
    expect(harness.next()).toMatchObject({ kind: 'reconcile', orderId })
  })

  test('"not found" after the grace time resolves to Failed, not at venue, and the order becomes resendable with the same client id', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    harness.nowMs += 5_000
    reconcile(harness, orderId, null)
    const order = harness.order(orderId)
    expect(order).toMatchObject({ status: 'Failed', notAtVenue: true })
    expect(harness.reserved('USD')).toBe(0n)
    expect(resendable(order)).toBe(true)
    harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: trader, orderId, market: market('50000', { observedAtMs: harness.nowMs }) })
    expect(harness.order(orderId).status).toBe('Enqueued')
    expect(harness.reserved('USD')).toBe(d('5005'))
    expect(harness.send(orderId).events[0]).toMatchObject({ attempt: 2, venueClientOrderId: `eg-${orderId}` })
  })

  test('"not found" read within the grace time is not proof even when its answer comes after it: deferred, not Failed', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    const askedAtMs = harness.nowMs + 1_000
    harness.nowMs += 6_000
    const decision = harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs, orderId, venueOrder: null, trades: [] })
    expect(harness.eventTypes(decision)).toEqual(['order.reconcile_deferred'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', notAtVenue: false })
    harness.nowMs += 1_000
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 500, orderId, venueOrder: null, trades: [] })
    expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true })
  })

  test('a venue answer the order cannot take (filled past its quantity) leaves it Unknown with an alert, asked again only after the recheck time', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    const overfilled = venueOrderOf(harness, orderId, { status: 'partially_filled', qty: d('0.2'), cumQty: d('0.15') })
    const decision = reconcile(harness, orderId, overfilled)
    expect(harness.eventTypes(decision)).toEqual(['alert.raised', 'order.overfill_recheck'])
    expect(harness.order(orderId).status).toBe('Unknown')
    // Before: no deferral, so the order was due again at once — a query and an alert per venue round trip, forever.
    expect(harness.next()).toBeNull()
    harness.nowMs += 1_000
    expect(harness.next()).toMatchObject({ kind: 'reconcile', orderId })
  })

  test('an answer asked before the order had news (a fill report) is refused and changes nothing; one asked after converges', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const askedAtMs = harness.nowMs
    harness.nowMs += 100
    harness.report(report(harness.order(orderId), { kind: 'fill', execId: 'f1', lastQty: d('0.1'), lastPrice: d('50000'), cumQty: d('0.1') }))
    expect(harness.order(orderId).status).toBe('Filled')
    harness.nowMs += 200
    const stale = harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs, orderId, venueOrder: venueOrderOf(harness, orderId, { status: 'open' }), trades: [] })
    expect(stale.events).toEqual([])
    expect(stale.reply).toMatchObject({ kind: 'refused', reason: 'TRANSITION_REFUSED' })
    expect(harness.order(orderId).status).toBe('Filled')
    const fresh = harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 10, orderId, venueOrder: venueOrderOf(harness, orderId, { status: 'filled', cumQty: d('0.1') }), trades: [] })
    expect(fresh.reply).toEqual({ kind: 'done' })
    expect(harness.order(orderId).status).toBe('Filled')
  })

  test('an answer asked before the order had news still books the trades egress never heard of; only its status is not taken', () => {
    // Bootstrap after downtime: the venue filled 0.03 while egress was down (its report never came), egress asks, and a
    // live fill report of 0.04 lands before the answer. The status in the answer is older than the order's news; the
    // missed trade is a fact with its own execId whatever the answer's age, and nothing else would book it before the
    // next sweep (none at all with sweeps off).
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const askedAtMs = harness.nowMs
    harness.nowMs += 100
    harness.report(report(harness.order(orderId), { kind: 'fill', execId: 'live-1', lastQty: d('0.04'), lastPrice: d('50000'), cumQty: d('0.07') }))
    harness.nowMs += 200
    const order = harness.order(orderId)
    const missed: VenueTrade = { ...venueTradeOf(harness, orderId, 'missed-1', '0.03'), venueOrderId: order.venueOrderId ?? 'v-9' }
    const stale = harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs, orderId, venueOrder: venueOrderOf(harness, orderId, { status: 'partially_filled', cumQty: d('0.03') }), trades: [missed] })
    expect(harness.eventTypes(stale)).toEqual(['order.fill'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: d('0.07') })
    // The same answer again adds nothing: the trade is booked once.
    const again = harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs, orderId, venueOrder: null, trades: [missed] })
    expect(again.events).toEqual([])
    expect(again.reply).toMatchObject({ kind: 'refused', reason: 'TRANSITION_REFUSED' })
  })

  test('an order that is not resendable is refused a resend', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    expect(harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: trader, orderId, market: market('50000', { observedAtMs: harness.nowMs }) }).reply).toMatchObject({ kind: 'refused', reason: 'ORDER_NOT_RESENDABLE' })
  })

  test('found open at the venue converges Unknown to AckedOpen', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    reconcile(harness, orderId, venueOrderOf(harness, orderId, { status: 'open' }))
    expect(harness.order(orderId)).toMatchObject({ status: 'AckedOpen', venueOrderId: 'v-9' })
  })

  test('found filled with its trades: the missing fills are booked and the order is Filled', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    const trades = [venueTradeOf(harness, orderId, 't2', '0.06'), venueTradeOf(harness, orderId, 't1', '0.04')]
    reconcile(harness, orderId, venueOrderOf(harness, orderId, { status: 'filled', cumQty: d('0.1') }), trades)
    expect(harness.order(orderId)).toMatchObject({ status: 'Filled', cumQty: d('0.1') })
    expect(harness.balance('BTC')).toBe(d('2.1'))
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('trades already seen through the inbox are not booked twice', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    harness.report(report(harness.order(orderId), { execId: 't1', kind: 'fill', lastQty: d('0.04'), lastPrice: d('50000'), cumQty: d('0.04') }))
    reconcile(harness, orderId, venueOrderOf(harness, orderId, { status: 'partially_filled', cumQty: d('0.04') }), [venueTradeOf(harness, orderId, 't1', '0.04')])
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: d('0.04') })
  })

  test('an Unknown order with a cancel wanted converges to CancelRequested when the venue still has it open', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.cancel(orderId)
    harness.send(orderId, 'cancel')
    harness.cancelResult(orderId, { kind: 'unknown', reason: 'timeout' })
    reconcile(harness, orderId, venueOrderOf(harness, orderId, { status: 'open' }))
    expect(harness.order(orderId).status).toBe('CancelRequested')
    expect(harness.next()).toMatchObject({ kind: 'cancel', lane: 0 })
  })

  test('the venue reporting more filled than its trades explain books a synthetic fill and alerts', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    const decision = reconcile(harness, orderId, venueOrderOf(harness, orderId, { status: 'filled', cumQty: d('0.1') }))
    expect(harness.eventTypes(decision)).toEqual(['alert.raised', 'order.fill', 'order.synthetic_pending', 'order.reconciled'])
    // The alert states the quantities as decimals, as everything an explanation shows does (it said "venue cumQty
    // 10000000, trades explain 0": the internal units, 10^8 per 1).
    expect(decision.events[0]).toMatchObject({ reason: 'RECONCILE_SYNTHETIC_FILL', detail: 'venue cumQty 0.1, trades explain 0' })
    expect(harness.order(orderId)).toMatchObject({ status: 'Filled', cumQty: d('0.1') })
  })

  test('trades that fill an Unknown order still leave the reconcile conclusion on record, with the venue order id', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    const decision = reconcile(harness, orderId, venueOrderOf(harness, orderId, { status: 'filled', cumQty: d('0.1') }), [venueTradeOf(harness, orderId, 't1', '0.1')])
    expect(harness.eventTypes(decision)).toEqual(['order.fill', 'order.reconciled'])
    expect(decision.events[1]).toMatchObject({ to: 'Filled', reason: 'RECONCILE_CONVERGED', venueOrderId: 'v-9' })
    expect(harness.order(orderId)).toMatchObject({ status: 'Filled', venueOrderId: 'v-9', lastReason: 'RECONCILE_CONVERGED' })
    // Asked again, a Filled order has nothing left to converge.
    expect(reconcile(harness, orderId, venueOrderOf(harness, orderId, { status: 'filled', cumQty: d('0.1') })).events).toEqual([])
  })

  test('a venue cumQty above the order quantity is an overfill: alert, stay Unknown', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    const decision = reconcile(harness, orderId, venueOrderOf(harness, orderId, { status: 'filled', cumQty: d('0.2') }))
    expect(decision.events[0]).toMatchObject({ reason: 'FILL_OVERFILL', detail: `venue reports cumQty 0.2 of ${formatDecimal(harness.order(orderId).qty)}` })
    expect(harness.order(orderId).status).toBe('Unknown')
  })

  test('an ack report for an Unknown order proves it exists', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    harness.report(report(harness.order(orderId), { execId: 'n1', kind: 'new' }))
    expect(harness.order(orderId).status).toBe('AckedOpen')
  })
})
