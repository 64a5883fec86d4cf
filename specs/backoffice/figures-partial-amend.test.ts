/**
 * Hand-worked figures for what the golden ledgers leave out: partial fills, an amend (requested, then applied) between
 * them, a fill after a cancel was requested, a fee in a third asset, then a sale across zero (long → short) and a
 * partial cover. Every figure below is worked by hand in the comments (amounts in units of 10^-8). Then the same log
 * restarted at every LSN — the ledger carried over as a snapshot section carries it (tagged JSON), the rest folded on —
 * and folded from genesis again must give the same figures.
 */

import { describe, expect, test } from 'bun:test'
import { accountBook, applyEvent, averageCost, initialLedger, positionKey, trialBalance, type LedgerState } from '../../src/backoffice/index.ts'
import { ledgerFigures, ledgerVsReplay } from '../../src/backoffice/internal-checks.ts'
import { decodeTagged, encodeTagged } from '../../src/backoffice/tagged-json.ts'
import { formatDecimal } from '../../src/domain/decimal.ts'
import { decodeEvent, encodeEvent, type DomainEvent } from '../../src/domain/events/index.ts'
import { ACCOUNT, accepted, AT_MS, canceled, d, fill, funded } from './events.ts'

const DECISION = { principalId: 'alice', roles: ['trader'], configDigest: 'cfg', buildCommit: 'spec', nowMs: AT_MS, guards: [] }

function checked(event: DomainEvent): DomainEvent {
  return decodeEvent(encodeEvent(event))
}

const amendRequested = (orderId: string, qty: string, price: string, reservationTotal: string): DomainEvent =>
  checked({ type: 'order.amend_requested', atMs: AT_MS, orderId, principalId: 'alice', amendId: 1, amendClientOrderId: `${orderId}-a1`, qty: d(qty), price: d(price), reservationTotal: d(reservationTotal), decision: DECISION })
const amended = (orderId: string, qty: string, price: string, reservationTotal: string): DomainEvent =>
  checked({ type: 'order.amended', atMs: AT_MS, orderId, amendId: 1, amendClientOrderId: `${orderId}-a1`, qty: d(qty), price: d(price), reservationTotal: d(reservationTotal), source: 'result' })
const cancelRequested = (orderId: string): DomainEvent => checked({ type: 'order.cancel_requested', atMs: AT_MS, orderId, principalId: 'alice', reason: 'USER_CANCEL' } as DomainEvent)

/** The log, with what each step leaves reserved in USD (the buy's hold) where it changes. */
const LOG: DomainEvent[] = [
  funded('USD', '100000'),
  funded('BTC', '1'),
  funded('BNB', '10'),
  // Buy 1 @ 100, holding 101 (with a fee allowance).
  accepted({ orderId: 'b1', side: 'buy', qty: '1', price: '100', reservation: '101' }),
  // 0.3 @ 100: pays 30 and 0.03 fee; holds the unfilled 0.7 of 101 = 70.7.
  fill('b1', { execId: 'b1-1', qty: '0.3', price: '100', cumQty: '0.3', fee: '0.03' }),
  // Amend to 0.5 (total 50.5): while pending it holds the larger of 70.7 and 0.2/0.5 of 50.5 = 20.2: 70.7.
  amendRequested('b1', '0.5', '100', '50.5'),
  // Applied: 0.2/0.5 of 50.5 = 20.2.
  amended('b1', '0.5', '100', '50.5'),
  // 0.1 @ 99.5, fee 0.0001 BNB: pays 9.95; holds 0.1/0.5 of 50.5 = 10.1.
  fill('b1', { execId: 'b1-2', qty: '0.1', price: '99.5', cumQty: '0.4', fee: '0.0001', feeAsset: 'BNB' }),
  cancelRequested('b1'),
  // After the cancel request, 0.05 @ 99: pays 4.95 and 0.00495 fee; holds 0.05/0.5 of 50.5 = 5.05.
  fill('b1', { execId: 'b1-3', qty: '0.05', price: '99', cumQty: '0.45', fee: '0.00495' }),
  // Canceled: holds nothing. Long 0.45 at a basis of 30 + 9.95 + 4.95 = 44.9.
  canceled('b1'),
  // Sell 0.7: closes the 0.45 long and opens a 0.25 short.
  accepted({ orderId: 's1', side: 'sell', qty: '0.7', price: '101' }),
  // 0.2 @ 101 receives 20.2 (fee 0.0202). Basis released: 44.9 × 0.2/0.45 = 19.955555555… → 19.95555556;
  // realized 20.2 − 19.95555556 = 0.24444444; basis 24.94444444.
  fill('s1', { execId: 's1-1', qty: '0.2', price: '101', cumQty: '0.2', fee: '0.0202' }),
  // 0.5 @ 102 receives 51 (fee 0.051): 0.25 closes (25.5 against the whole basis 24.94444444: +0.55555556, realized
  // 0.8 — the 45.7 the long sold for less the 44.9 it cost), 0.25 opens short at 25.5 (basis −25.5).
  fill('s1', { execId: 's1-2', qty: '0.5', price: '102', cumQty: '0.7', fee: '0.051' }),
  // Buy 0.1 @ 100 (pays 10, fee 0.01) covers 0.1 of the 0.25 short: basis released −25.5 × 0.1/0.25 = −10.2, realized
  // −10 − (−10.2) = +0.2, so 1.0 in all; basis −15.3 for the 0.15 still short (average 102).
  accepted({ orderId: 'b2', side: 'buy', qty: '0.1', price: '100', reservation: '10.1' }),
  fill('b2', { execId: 'b2-1', qty: '0.1', price: '100', cumQty: '0.1', fee: '0.01' }),
]

/** USD held after each LSN (1-based), where the buy's hold is the only USD one. */
const USD_RESERVED_AFTER: Record<number, string> = { 4: '101', 5: '70.7', 6: '70.7', 7: '20.2', 8: '10.1', 9: '10.1', 10: '5.05', 11: '0', 15: '10.1', 16: '0' }

function foldFrom(state: LedgerState, fromLsn: number): LedgerState {
  for (let lsn = fromLsn; lsn <= LOG.length; lsn++) applyEvent(state, LOG[lsn - 1] as DomainEvent, lsn)
  return state
}

describe('figures with partial fills, an amend, a fill after a cancel request and a flip through zero', () => {
  test('the reservation follows the partial fills and the amend, step by step', () => {
    const state = initialLedger()
    LOG.forEach((event, index) => {
      const lsn = index + 1
      applyEvent(state, event, lsn)
      const expected = USD_RESERVED_AFTER[lsn]
      if (expected !== undefined) expect(`${lsn}: ${formatDecimal(state.reserved.get(ACCOUNT)?.get('USD') ?? 0n)}`).toBe(`${lsn}: ${expected}`)
      for (const [asset, sum] of trialBalance(state)) expect(`${lsn} ${asset} ${sum}`).toBe(`${lsn} ${asset} 0`)
    })
    // The sell held 0.7 BTC until it filled.
    expect(state.reserved.get(ACCOUNT)?.get('BTC')).toBeUndefined()
  })

  test('position, PnL, fees and balances are the hand-worked figures', () => {
    const state = foldFrom(initialLedger(), 1)
    const position = state.positions.get(positionKey(ACCOUNT, 'sim', 'BTC-USD'))
    if (position === undefined) throw new Error('no position')
    expect(formatDecimal(position.netQty)).toBe('-0.15')
    expect(formatDecimal(position.costBasis)).toBe('-15.3')
    expect(formatDecimal(averageCost(position) as bigint)).toBe('102')
    expect(formatDecimal(position.realizedPnl)).toBe('1')
    expect(Object.fromEntries([...position.fees].map(([asset, fee]) => [asset, formatDecimal(fee)]))).toEqual({ USD: '0.11615', BNB: '0.0001' })
    expect([formatDecimal(position.boughtQty), formatDecimal(position.soldQty), position.fillCount]).toEqual(['0.55', '0.7', 6])
    const book = state.books.get(accountBook(ACCOUNT))
    // USD: 100000 − 30 − 9.95 − 4.95 + 20.2 + 51 − 10 (cash 16.3) − 0.11615 in fees.
    expect(formatDecimal(book?.get('USD') ?? 0n)).toBe('100016.18385')
    expect(formatDecimal(book?.get('BTC') ?? 0n)).toBe('0.85')
    expect(formatDecimal(book?.get('BNB') ?? 0n)).toBe('9.9999')
    // realized − basis = Σ cash of the position's fills, exactly.
    expect(formatDecimal(position.realizedPnl - position.costBasis)).toBe('16.3')
  })

  test('restarted at any LSN from the ledger as a section carries it, the rest folded on, it ends as the fold from genesis', () => {
    const genesis = ledgerFigures(foldFrom(initialLedger(), 1))
    for (let at = 1; at < LOG.length; at++) {
      const upTo = initialLedger()
      for (let lsn = 1; lsn <= at; lsn++) applyEvent(upTo, LOG[lsn - 1] as DomainEvent, lsn)
      const carried = decodeTagged(encodeTagged(upTo)) as LedgerState
      const restarted = foldFrom(carried, at + 1)
      expect(`${at}: ${JSON.stringify(ledgerVsReplay(ledgerFigures(restarted), genesis))}`).toBe(`${at}: []`)
    }
  })
})
