/**
 * A synthetic fill (status-only reconcile: the order's limit price, no fee) trued up by the real fills it stood for:
 * once the real fills have arrived, the kernel and the back office hold exactly what an account that received the
 * real fills directly holds — cash, position, cost, fees (src/kernel/synthetic-cover.ts, order.fill_trued_up).
 */
import { describe, expect, test } from 'bun:test'
import { accountBook, bookBalance, feeBook, trialBalance, venueBook } from '../../src/backoffice/books.ts'
import { initialLedger, type LedgerState } from '../../src/backoffice/ledger-state.ts'
import { applyEvent } from '../../src/backoffice/ledger.ts'
import { positionKey } from '../../src/backoffice/positions.ts'
import type { Units } from '../../src/domain/decimal.ts'
import { applyInPlace, initialState, stateDigest } from '../../src/kernel/index.ts'
import type { VenueOrder, VenueTrade } from '../../src/venues/adapter.ts'
import { ACCOUNT, d, Harness } from './fixtures.ts'
import { realFillReport, statusOnlyReconcile, type RealFill } from './venue-fixtures.ts'

const ASSETS = ['USD', 'BTC'] as const

function ledgerOf(harness: Harness): LedgerState {
  const ledger = initialLedger()
  harness.log.forEach((event, index) => applyEvent(ledger, event, index + 1))
  return ledger
}

/** What must agree between two accounts: the kernel's balances and order figures, the ledger's books and position. */
function figures(harness: Harness, orderId: string): Record<string, Units | number | undefined> {
  const ledger = ledgerOf(harness)
  const position = ledger.positions.get(positionKey(ACCOUNT, 'sim', 'BTC-USD'))
  const order = harness.order(orderId)
  const out: Record<string, Units | number | undefined> = {
    cumQty: order.cumQty,
    cumNotional: order.cumNotional,
    cumNotionalRemainder: order.cumNotionalRemainder,
    netQty: position?.netQty,
    costBasis: position?.costBasis,
    realizedPnl: position?.realizedPnl,
  }
  for (const asset of ASSETS) {
    out[`kernel ${asset}`] = harness.balance(asset)
    out[`kernel reserved ${asset}`] = harness.reserved(asset)
    out[`ledger ${asset}`] = bookBalance(ledger, accountBook(ACCOUNT), asset)
    out[`venue ${asset}`] = bookBalance(ledger, venueBook('sim'), asset)
    out[`fees ${asset}`] = bookBalance(ledger, feeBook('sim'), asset)
    out[`position fees ${asset}`] = position?.fees.get(asset)
  }
  return out
}

/** The same order, filled by the same real fills: once with a synthetic fill booked first (of `syntheticCumQty`), once directly. */
function bothWays(side: 'buy' | 'sell', syntheticCumQty: string, fills: RealFill[]): { covered: Harness; direct: Harness; coveredId: string; directId: string } {
  const covered = Harness.funded()
  const coveredId = covered.openOrder({ side })
  statusOnlyReconcile(covered, coveredId, syntheticCumQty)
  expect(covered.log.some((event) => event.type === 'order.fill' && event.synthetic)).toBe(true)
  for (const fill of fills) realFillReport(covered, coveredId, fill)
  const direct = Harness.funded()
  const directId = direct.openOrder({ side })
  for (const fill of fills) realFillReport(direct, directId, fill)
  return { covered, direct, coveredId, directId }
}

describe('a synthetic fill trued up by the real fills it stood for', () => {
  test('one real fill at another price, with a fee, leaves exactly what the real fill booked directly leaves', () => {
    const fill = { execId: 'fix-exec-1', lastQty: '0.05', price: '49990', cumQty: '0.05', fee: '1.25', feeAsset: 'USD' }
    const { covered, direct, coveredId, directId } = bothWays('buy', '0.05', [fill])
    expect(covered.log.some((event) => event.type === 'order.fill_covered')).toBe(true)
    // Before the fix: USD 0.5 short (the synthetic fill's 50000 instead of 49990) plus the 1.25 fee never booked.
    expect(figures(covered, coveredId)).toEqual(figures(direct, directId))
    expect([...trialBalance(ledgerOf(covered)).values()].every((sum) => sum === 0n)).toBe(true)
  })

  test('a sell, reported in pieces with awkward prices, fees in either asset, the last piece straddling the synthetic quantity', () => {
    const fills = [
      { execId: 'f1', lastQty: '0.01333333', price: '50010.12345678', cumQty: '0.01333333', fee: '0.33', feeAsset: 'USD' },
      { execId: 'f2', lastQty: '0.02', price: '49999.99999999', cumQty: '0.03333333', fee: '0.00000777', feeAsset: 'BTC' },
      // Covered for 0.01666667 (up to the synthetic 0.05), booked for the rest, 0.01333333.
      { execId: 'f3', lastQty: '0.03', price: '50020.87654321', cumQty: '0.06333333', fee: '0.71', feeAsset: 'USD' },
    ]
    const { covered, direct, coveredId, directId } = bothWays('sell', '0.05', fills)
    expect(covered.log.filter((event) => event.type === 'order.fill_covered').length).toBe(3)
    expect(figures(covered, coveredId)).toEqual(figures(direct, directId))
  })

  test('a buy whose real fills arrive as trades of a later read-back, out of venue order', () => {
    const covered = Harness.funded()
    const orderId = covered.openOrder()
    statusOnlyReconcile(covered, orderId, '0.04')
    const order = covered.order(orderId)
    const trade = (execId: string, qty: string, price: string, fee: string, venueTimeMs: number): VenueTrade => ({
      execId, clientOrderId: order.venueClientOrderId, venueOrderId: `v-${orderId}`, account: ACCOUNT, symbol: order.symbol, side: order.side,
      qty: d(qty), price: d(price), fee: d(fee), feeAsset: 'USD', liquidity: 'maker', venueTimeMs,
    })
    const trades = [trade('t2', '0.03', '49980.5', '0.2', 2), trade('t1', '0.01', '49970.25', '0.1', 1)]
    covered.nowMs += 5_000
    const venueOrder: VenueOrder = { clientOrderId: order.venueClientOrderId, venueOrderId: `v-${orderId}`, account: ACCOUNT, symbol: order.symbol, side: order.side, qty: order.qty, cumQty: d('0.04'), status: 'partially_filled' }
    covered.run({ kind: 'reconcile_result', nowMs: covered.nowMs, askedAtMs: covered.nowMs - 20, orderId, venueOrder, trades })
    const direct = Harness.funded()
    const directId = direct.openOrder()
    for (const t of [trades[1], trades[0]]) {
      realFillReport(direct, directId, { execId: t!.execId, lastQty: t === trades[0] ? '0.03' : '0.01', price: t === trades[0] ? '49980.5' : '49970.25', cumQty: t === trades[0] ? '0.04' : '0.01', fee: t === trades[0] ? '0.2' : '0.1', feeAsset: 'USD' })
    }
    expect(figures(covered, orderId)).toEqual(figures(direct, directId))
  })

  test('replaying the log gives the same kernel state', () => {
    const fills = [
      { execId: 'f1', lastQty: '0.02', price: '49990.5', cumQty: '0.02', fee: '0.5', feeAsset: 'USD' },
      { execId: 'f2', lastQty: '0.04', price: '49991', cumQty: '0.06', fee: '1', feeAsset: 'USD' },
    ]
    const { covered } = bothWays('buy', '0.05', fills)
    const replayed = initialState()
    covered.log.forEach((event, index) => applyInPlace(replayed, event, { lsn: index + 1 }))
    expect(stateDigest(replayed)).toBe(stateDigest(covered.state))
  })
})
