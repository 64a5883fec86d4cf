/**
 * A synthetic fill from a status-only reconcile (a venue with no trade query: FIX), then the real fill reports behind
 * it (src/kernel/synthetic-cover.ts). The first test is the review's failing spec for ef84e44, unchanged in substance.
 */
import { describe, expect, test } from 'bun:test'
import { bookBalance, accountBook } from '../../src/backoffice/books.ts'
import { initialLedger } from '../../src/backoffice/ledger-state.ts'
import { applyEvent } from '../../src/backoffice/ledger.ts'
import { positionKey } from '../../src/backoffice/positions.ts'
import { applyInPlace, initialState, stateDigest } from '../../src/kernel/index.ts'
import { coveredQtyOf, syntheticCumQtyOfExecIds } from '../../src/kernel/synthetic-cover.ts'
import type { VenueTrade } from '../../src/venues/adapter.ts'
import { ACCOUNT, d, Harness } from './fixtures.ts'
import { realFillReport, statusOnlyReconcile, venueOrderOf } from './venue-fixtures.ts'

describe('a synthetic fill from a status-only reconcile, then the real fill reports', () => {
  test('the real report of the quantity the synthetic fill booked is not booked again', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    statusOnlyReconcile(harness, orderId, '0.05')
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: d('0.05'), syntheticCumQty: d('0.05') })
    const decision = realFillReport(harness, orderId, { execId: 'fix-exec-1', lastQty: '0.05', cumQty: '0.05' })
    // Before the change: cumQty 0.1 and Filled (the 0.05 counted twice), and the resting half could not be canceled.
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: d('0.05') })
    expect(harness.eventTypes(decision)).toEqual(['inbox.report_accepted', 'order.fill_covered', 'order.fill_trued_up'])
    expect(decision.events[1]).toMatchObject({ execId: 'fix-exec-1', lastQty: d('0.05'), coveredQty: d('0.05'), venueCumQty: d('0.05'), syntheticCumQty: d('0.05') })
    expect(harness.cancel(harness.order(orderId).orderId).reply.kind).not.toBe('refused')
    // The same report again is a duplicate, as any other.
    expect(harness.eventTypes(realFillReport(harness, orderId, { execId: 'fix-exec-1', lastQty: '0.05', cumQty: '0.05' }))).toEqual(['inbox.duplicate_dropped'])
  })

  test('fills reported out of order (fill 2 before fill 1) are both matched by their venue range', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    statusOnlyReconcile(harness, orderId, '0.05')
    realFillReport(harness, orderId, { execId: 'f2', lastQty: '0.02', cumQty: '0.05' })
    realFillReport(harness, orderId, { execId: 'f1', lastQty: '0.03', cumQty: '0.03' })
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: d('0.05') })
    // The next fill lies above what the synthetic fill booked: booked in full.
    realFillReport(harness, orderId, { execId: 'f3', lastQty: '0.05', cumQty: '0.1' })
    expect(harness.order(orderId)).toMatchObject({ status: 'Filled', cumQty: d('0.1') })
  })

  test('a later fill reported before an earlier one the synthetic fill stood for: the later one is booked, the earlier one covered', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    realFillReport(harness, orderId, { execId: 'f2', lastQty: '0.02', cumQty: '0.05' })
    // The venue says 0.05: egress holds 0.02, so 0.03 is booked as synthetic (fill 1, whose report is late).
    statusOnlyReconcile(harness, orderId, '0.05')
    expect(harness.order(orderId)).toMatchObject({ cumQty: d('0.05'), syntheticCumQty: d('0.05') })
    realFillReport(harness, orderId, { execId: 'f1', lastQty: '0.03', cumQty: '0.03' })
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: d('0.05') })
  })

  test('a fill straddling the synthetic cumulative quantity is booked for the part above it only', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    statusOnlyReconcile(harness, orderId, '0.04')
    const decision = realFillReport(harness, orderId, { execId: 'f1', lastQty: '0.05', cumQty: '0.06', price: '49990' })
    expect(harness.eventTypes(decision)).toEqual(['inbox.report_accepted', 'order.fill_covered', 'order.fill', 'order.fill_trued_up'])
    expect(decision.events[1]).toMatchObject({ coveredQty: d('0.03') })
    expect(decision.events[2]).toMatchObject({ execId: 'f1', lastQty: d('0.02'), cumQty: d('0.06'), synthetic: false })
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: d('0.06') })
  })

  test('a trade from a trades query is placed by the running total of the order\'s trades, and matched the same way', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    statusOnlyReconcile(harness, orderId, '0.05')
    const order = harness.order(orderId)
    const trade = (execId: string, qty: string, venueTimeMs: number): VenueTrade => ({
      execId, clientOrderId: order.venueClientOrderId, venueOrderId: `v-${orderId}`, account: ACCOUNT, symbol: order.symbol, side: order.side,
      qty: d(qty), price: d('50000'), fee: 0n, feeAsset: 'USD', liquidity: 'taker', venueTimeMs,
    })
    harness.nowMs += 5_000
    const trades = [trade('t2', '0.03', 2), trade('t1', '0.02', 1)]
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 20, orderId, venueOrder: venueOrderOf(harness, orderId, { venueOrderId: `v-${orderId}`, cumQty: d('0.05'), status: 'partially_filled' }), trades })
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: d('0.05') })
    expect(harness.log.filter((event) => event.type === 'order.fill_covered').map((event) => event.type === 'order.fill_covered' && event.execId)).toEqual(['t1', 't2'])
  })

  test('the kernel\'s balances and the back office\'s ledger and position book the quantity once', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const btcBefore = harness.balance('BTC')
    statusOnlyReconcile(harness, orderId, '0.05')
    realFillReport(harness, orderId, { execId: 'fix-exec-1', lastQty: '0.05', cumQty: '0.05' })
    expect(harness.balance('BTC') - btcBefore).toBe(d('0.05'))
    const ledger = initialLedger()
    harness.log.forEach((event, index) => applyEvent(ledger, event, index + 1))
    expect(bookBalance(ledger, accountBook(ACCOUNT), 'BTC') - d('2')).toBe(d('0.05'))
    expect(ledger.positions.get(positionKey(ACCOUNT, 'sim', 'BTC-USD'))).toMatchObject({ netQty: d('0.05'), fillCount: 1 })
    expect(ledger.orders.get(orderId)).toMatchObject({ cumQty: d('0.05'), status: 'Partial' })
  })

  test('replaying the log gives the same state, and the field equals what the execution ids say', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    statusOnlyReconcile(harness, orderId, '0.03')
    statusOnlyReconcile(harness, orderId, '0.05')
    realFillReport(harness, orderId, { execId: 'f1', lastQty: '0.05', cumQty: '0.05' })
    const replayed = initialState()
    harness.log.forEach((event, index) => applyInPlace(replayed, event, { lsn: index + 1 }))
    expect(stateDigest(replayed)).toBe(stateDigest(harness.state))
    expect(syntheticCumQtyOfExecIds(harness.order(orderId).execIds)).toBe(d('0.05'))
  })
})

describe('coveredQtyOf', () => {
  test('covers the part of the venue range at or below the synthetic cumulative quantity', () => {
    expect(coveredQtyOf(0n, { lastQty: 5n, venueCumQty: 5n })).toBe(0n)
    expect(coveredQtyOf(5n, { lastQty: 5n, venueCumQty: 5n })).toBe(5n)
    expect(coveredQtyOf(5n, { lastQty: 2n, venueCumQty: 3n })).toBe(2n)
    expect(coveredQtyOf(4n, { lastQty: 5n, venueCumQty: 6n })).toBe(3n)
    expect(coveredQtyOf(5n, { lastQty: 3n, venueCumQty: 8n })).toBe(0n)
    // No usable venue cumulative quantity (a report without CumQty): nothing can be placed, nothing is covered.
    expect(coveredQtyOf(5n, { lastQty: 3n, venueCumQty: null })).toBe(0n)
    expect(coveredQtyOf(5n, { lastQty: 3n, venueCumQty: 0n })).toBe(0n)
  })
})
