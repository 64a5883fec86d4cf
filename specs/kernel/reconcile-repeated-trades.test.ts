/**
 * A trades answer that lists one execution id more than once (a buggy venue, or pages that overlap): the trade is one
 * fill, booked once, in the kernel and in the back office (src/kernel/reconcile.ts, bookUnseenTrades).
 */
import { describe, expect, test } from 'bun:test'
import { accountBook, bookBalance } from '../../src/backoffice/books.ts'
import { initialLedger } from '../../src/backoffice/ledger-state.ts'
import { applyEvent } from '../../src/backoffice/ledger.ts'
import { positionKey } from '../../src/backoffice/positions.ts'
import type { VenueOrder, VenueTrade } from '../../src/venues/adapter.ts'
import { ACCOUNT, d, Harness } from './fixtures.ts'
import { unknownOrder, venueOrderOf, venueTradeOf } from './venue-fixtures.ts'

/** A venue trade with a fee of 1 USD. */
function trade(harness: Harness, orderId: string, execId: string, qty: string, overrides: Partial<VenueTrade> = {}): VenueTrade {
  return venueTradeOf(harness, orderId, execId, qty, { fee: d('1'), ...overrides })
}

function reconcile(harness: Harness, orderId: string, venue: VenueOrder | null, trades: VenueTrade[]) {
  harness.nowMs += 5_000
  return harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 20, orderId, venueOrder: venue, trades })
}

function ledgerOf(harness: Harness) {
  const ledger = initialLedger()
  harness.log.forEach((event, index) => applyEvent(ledger, event, index + 1))
  return ledger
}

describe('a trades answer listing one execution id twice', () => {
  test('an Unknown order books the trade once: cumQty, balances, the ledger and the position count it once', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    const usdBefore = harness.balance('USD')
    const decision = reconcile(harness, orderId, venueOrderOf(harness, orderId, { status: 'partially_filled', cumQty: d('0.04') }), [
      trade(harness, orderId, 't1', '0.04'),
      trade(harness, orderId, 't1', '0.04'),
    ])
    // Before the fix: two order.fill events for t1, cumQty 0.08 against the venue's 0.04.
    expect(decision.events.filter((event) => event.type === 'order.fill').map((event) => event.type === 'order.fill' && event.execId)).toEqual(['t1'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: d('0.04') })
    expect(harness.balance('BTC')).toBe(d('2.04'))
    expect(usdBefore - harness.balance('USD')).toBe(d('2001'))
    const ledger = ledgerOf(harness)
    expect(ledger.counters.fills).toBe(1)
    expect(bookBalance(ledger, accountBook(ACCOUNT), 'BTC')).toBe(d('2.04'))
    expect(bookBalance(ledger, accountBook(ACCOUNT), 'USD')).toBe(d('100000') - d('2001'))
    expect(ledger.positions.get(positionKey(ACCOUNT, 'sim', 'BTC-USD'))).toMatchObject({ netQty: d('0.04'), fillCount: 1 })
    expect(ledger.positions.get(positionKey(ACCOUNT, 'sim', 'BTC-USD'))?.fees.get('USD')).toBe(d('1'))
  })

  test('the repeat does not count in the running total that places later trades against a synthetic fill', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    // A status-only read books 0.04 as synthetic (venue cumulative quantity 0.04).
    reconcile(harness, orderId, venueOrderOf(harness, orderId, { venueOrderId: `v-${orderId}`, status: 'partially_filled', cumQty: d('0.04') }), [])
    expect(harness.order(orderId)).toMatchObject({ cumQty: d('0.04'), syntheticCumQty: d('0.04') })
    // Then the trades: t1 (0.04, listed twice) is what the synthetic fill stood for; t2 (0.03) lies above it. Counted
    // twice, t1 would place t2 at (0.08, 0.11] and the order would book 0.03 it holds already, or overfill.
    const at = harness.nowMs
    reconcile(harness, orderId, venueOrderOf(harness, orderId, { venueOrderId: `v-${orderId}`, status: 'partially_filled', cumQty: d('0.07') }), [
      trade(harness, orderId, 't1', '0.04', { venueTimeMs: at + 1 }),
      trade(harness, orderId, 't1', '0.04', { venueTimeMs: at + 1 }),
      trade(harness, orderId, 't2', '0.03', { venueTimeMs: at + 2 }),
    ])
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: d('0.07') })
    expect(harness.log.filter((event) => event.type === 'order.fill_covered').map((event) => event.type === 'order.fill_covered' && event.execId)).toEqual(['t1'])
    expect(harness.log.filter((event) => event.type === 'order.fill' && !event.synthetic).map((event) => event.type === 'order.fill' && [event.execId, event.lastQty])).toEqual([['t2', d('0.03')]])
  })

  test('copies that disagree: the first is booked and the disagreement is alerted', () => {
    const harness = Harness.funded()
    const orderId = unknownOrder(harness)
    const decision = reconcile(harness, orderId, venueOrderOf(harness, orderId, { status: 'partially_filled', cumQty: d('0.04') }), [
      trade(harness, orderId, 't1', '0.04'),
      trade(harness, orderId, 't1', '0.05'),
    ])
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: d('0.04') })
    expect(decision.events.find((event) => event.type === 'alert.raised')).toMatchObject({ reason: 'REPORT_DUPLICATE', orderId })
  })
})
