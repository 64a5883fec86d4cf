/**
 * A true-up changes the cash of quantity a position took earlier (src/backoffice/positions.ts, applyTrueUpToPosition):
 * the part still open carries it in its cost basis, the part closed since in its realized PnL, and the invariant
 * realizedPnl − costBasis = Σ cash legs holds either way. These positions hold only the synthetic quantity, booked
 * with no lot (as a back-office section written before lots holds it): the rule before lots splits it, which is
 * right for a position holding nothing else. Mixed positions, with lots: true-up-average-cost.test.ts.
 */
import { describe, expect, test } from 'bun:test'
import { parseDecimal as d, type Units } from '../../src/domain/decimal.ts'
import type { FillRecord } from '../../src/backoffice/ledger-state.ts'
import { applyFillToPosition, applyTrueUpToPosition, type Position } from '../../src/backoffice/positions.ts'

function position(): Position {
  return { accountId: 'a', venue: 'sim', symbol: 'BTC-USD', baseAsset: 'BTC', quoteAsset: 'USD', netQty: 0n, costBasis: 0n, realizedPnl: 0n, fees: new Map(), boughtQty: 0n, soldQty: 0n, fillCount: 0, lastLsn: 0 }
}

function fill(side: 'buy' | 'sell', qty: string, cash: Units, lsn: number): FillRecord {
  return { lsn, execId: `e${lsn}`, orderId: 'o', accountId: 'a', venue: 'sim', symbol: 'BTC-USD', side, qty: d(qty), price: 1n, fee: 0n, feeAsset: 'USD', liquidity: null, synthetic: false, cash, venueTimeMs: 0, atMs: 0 }
}

describe('a true-up in a position', () => {
  test('all open: the cost basis takes the whole change', () => {
    const p = position()
    applyFillToPosition(p, fill('buy', '0.05', -d('2500'), 1))
    applyTrueUpToPosition(p, { orderId: 'o', side: 'buy', qty: d('0.05'), realCash: -d('2499.5'), cashDelta: d('0.5'), fee: d('1.25'), feeAsset: 'USD', lsn: 2, lotFallback: true })
    expect(p).toMatchObject({ netQty: d('0.05'), costBasis: d('2499.5'), realizedPnl: 0n, lastLsn: 2 })
    expect(p.fees.get('USD')).toBe(d('1.25'))
  })

  test('partly closed since: the open part in the cost basis, the closed part realized', () => {
    const p = position()
    applyFillToPosition(p, fill('buy', '0.05', -d('2500'), 1))
    applyFillToPosition(p, fill('sell', '0.03', d('1530'), 2))
    applyTrueUpToPosition(p, { orderId: 'o', side: 'buy', qty: d('0.05'), realCash: -d('2499.5'), cashDelta: d('0.5'), fee: 0n, feeAsset: 'USD', lsn: 3, lotFallback: true })
    expect(p).toMatchObject({ netQty: d('0.02'), costBasis: d('999.8'), realizedPnl: d('30.3') })
    expect(p.realizedPnl - p.costBasis).toBe(-d('2500') + d('1530') + d('0.5'))
  })

  test('closed to flat since: all of it realized, no cost basis left', () => {
    const p = position()
    applyFillToPosition(p, fill('sell', '0.05', d('2500'), 1))
    applyFillToPosition(p, fill('buy', '0.05', -d('2400'), 2))
    applyTrueUpToPosition(p, { orderId: 'o', side: 'sell', qty: d('0.05'), realCash: d('2501.5'), cashDelta: d('1.5'), fee: 0n, feeAsset: 'USD', lsn: 3, lotFallback: true })
    expect(p).toMatchObject({ netQty: 0n, costBasis: 0n, realizedPnl: d('101.5') })
  })
})
