/**
 * The ledger's money in the cases a review suspected, each driven through the kernel harness and folded from its log:
 * a partial fill then a cancel releases exactly what the order still held; an amend up and back down holds the new
 * quantity's share each time; a sell holds its base asset; a fill read back after its report (same execution id) is
 * booked once; an overfill books nothing; a fill through the limit is booked with an alert. Each ends with the books
 * balanced per asset and in step with the kernel's balances and holds.
 */

import { describe, expect, test } from 'bun:test'
import { balanceRowsOf } from '../../src/backoffice/balances.ts'
import { ledgerBalanced, ledgerVsKernel } from '../../src/backoffice/internal-checks.ts'
import { initialLedger, type LedgerState } from '../../src/backoffice/ledger-state.ts'
import { accountBook } from '../../src/backoffice/books.ts'
import { mulUnits } from '../../src/domain/decimal.ts'
import { ACCOUNT, d, Harness, report } from '../kernel/fixtures.ts'
import { foldOn } from './kernel-log-fold.ts'

function folded(harness: Harness): LedgerState {
  const ledger = foldOn(initialLedger(), harness, 1)
  expect(ledgerBalanced(ledger)).toEqual([])
  expect(ledgerVsKernel(balanceRowsOf(ledger), harness.state, ledger)).toEqual([])
  return ledger
}

const held = (ledger: LedgerState, asset: string) => ledger.reserved.get(ACCOUNT)?.get(asset) ?? 0n
const total = (ledger: LedgerState, asset: string) => ledger.books.get(accountBook(ACCOUNT))?.get(asset) ?? 0n

function fill(harness: Harness, orderId: string, execId: string, qty: string, price: string, fee = '0') {
  const order = harness.order(orderId)
  return harness.report(report(order, { execId, kind: 'fill', lastQty: d(qty), lastPrice: d(price), fee: d(fee), cumQty: order.cumQty + d(qty), venueOrderId: `v-${orderId}` }))
}

describe('the ledger’s money in the suspected cases', () => {
  test('a partial fill then a cancel releases what the order held, no more: nothing stays held, the cash is the fill’s', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ side: 'buy', qty: '0.3', price: '49999.99999999' })
    fill(harness, orderId, 'f1', '0.1', '49999.99999999', '2.5')
    expect(held(folded(harness), 'USD')).toBeGreaterThan(0n)
    harness.cancel(orderId)
    harness.send(orderId, 'cancel')
    harness.report(report(harness.order(orderId), { execId: 'c1', kind: 'canceled', cumQty: d('0.1'), venueOrderId: `v-${orderId}` }))
    const ledger = folded(harness)
    expect(harness.order(orderId).status).toBe('Canceled')
    expect(held(ledger, 'USD')).toBe(0n)
    expect(total(ledger, 'USD')).toBe(d('100000') - mulUnits(d('0.1'), d('49999.99999999'), 'up') - d('2.5'))
    expect(total(ledger, 'BTC')).toBe(d('2.1'))
  })

  test('an amend up then back down holds the amended quantity’s unfilled share each time', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ side: 'buy', qty: '0.2', price: '50000' })
    fill(harness, orderId, 'f1', '0.05', '50000')
    const before = held(folded(harness), 'USD')
    for (const qty of ['0.4', '0.1']) {
      expect(harness.amend(orderId, { qty }).reply.kind).toBe('amend_accepted')
      harness.send(orderId, 'amend')
      harness.amendResult(orderId, { kind: 'ok', value: { accepted: true } })
      const ledger = folded(harness)
      const order = harness.order(orderId)
      expect(order.qty).toBe(d(qty))
      expect(ledger.orders.get(orderId)?.held).toBe(order.reservation.remaining)
    }
    // Down to 0.1 with 0.05 filled: half of the 0.1's reservation, less than the 0.2's three quarters held before.
    expect(held(folded(harness), 'USD')).toBeLessThan(before)
  })

  test('a sell holds its base asset, not its quote', () => {
    const harness = Harness.funded()
    harness.openOrder({ side: 'sell', qty: '0.5', price: '50000' })
    const ledger = folded(harness)
    expect(held(ledger, 'BTC')).toBe(d('0.5'))
    expect(held(ledger, 'USD')).toBe(0n)
  })

  test('a fill reported and then read back under the same execution id is booked once', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ side: 'buy', qty: '0.2', price: '50000' })
    fill(harness, orderId, 'f1', '0.1', '49000', '1')
    const trade = { execId: 'f1', clientOrderId: harness.order(orderId).venueClientOrderId, venueOrderId: `v-${orderId}`, account: ACCOUNT, symbol: 'BTC-USD', side: 'buy' as const, qty: d('0.1'), price: d('49000'), fee: d('1'), feeAsset: 'USD', liquidity: 'taker' as const, venueTimeMs: harness.nowMs }
    harness.nowMs += 10_000
    const venueOrder = { clientOrderId: trade.clientOrderId, venueOrderId: trade.venueOrderId, account: ACCOUNT, symbol: 'BTC-USD', side: 'buy' as const, qty: d('0.2'), price: d('50000'), cumQty: d('0.1'), status: 'open' as const }
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder, trades: [trade, trade] })
    const ledger = folded(harness)
    expect(ledger.counters.fills).toBe(1)
    expect(total(ledger, 'USD')).toBe(d('100000') - d('4900') - d('1'))
  })

  test('an overfill books nothing and is alerted; a fill through the limit is booked and alerted', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ side: 'buy', qty: '0.1', price: '50000' })
    const over = fill(harness, orderId, 'f1', '0.2', '50000')
    expect(over.events.some((event) => event.type === 'alert.raised' && event.reason === 'FILL_OVERFILL')).toBe(true)
    expect(folded(harness).counters.fills).toBe(0)
    const through = fill(harness, orderId, 'f2', '0.1', '50001')
    expect(through.events.some((event) => event.type === 'alert.raised' && event.reason === 'FILL_PRICE_THROUGH_LIMIT')).toBe(true)
    const ledger = folded(harness)
    expect(total(ledger, 'USD')).toBe(d('100000') - d('5000.1'))
  })
})
