import { describe, expect, test } from 'bun:test'
import { pnlView, type BackOffice, type Position } from '../../src/backoffice/index.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'

// /v1/pnl summed only the fees paid in each position's quote asset: a fee a venue charged in the base asset or a third
// one (FIX CommCurrency, tag 479) was in the position's `fees` and the ledger's fee book, but in no PnL row at all.

const d = parseDecimal
const noMarks = { markPrice: () => null } as unknown as BackOffice

function position(symbol: string, fees: [string, string][]): Position {
  const [baseAsset, quoteAsset] = symbol.split('-') as [string, string]
  return {
    accountId: 'demo-1', venue: 'fixv', symbol, baseAsset, quoteAsset, netQty: 0n, costBasis: 0n, realizedPnl: d('12.5'),
    fees: new Map(fees.map(([asset, fee]) => [asset, d(fee)])), boughtQty: d('1'), soldQty: d('1'), fillCount: 2, lastLsn: 9,
  }
}

describe('PnL fees per asset', () => {
  test('a fee in an asset other than the quote asset is in the PnL row of that asset', () => {
    const rows = pnlView(noMarks, [position('BTC-USD', [['USD', '1.5'], ['BTC', '0.001'], ['BNB', '0.02']]), position('ETH-BTC', [['BNB', '0.03']])])
    const byAsset = Object.fromEntries(rows.map((row) => [row.asset as string, row]))
    expect(Object.keys(byAsset).sort()).toEqual(['BNB', 'BTC', 'USD'])
    expect(byAsset.USD).toMatchObject({ realized_pnl: '12.5', fees: '1.5', net_pnl: '11' })
    // ETH-BTC realized 12.5 BTC; the BTC fee of BTC-USD is paid in BTC too.
    expect(byAsset.BTC).toMatchObject({ realized_pnl: '12.5', fees: '0.001', net_pnl: '12.499' })
    expect(byAsset.BNB).toMatchObject({ realized_pnl: '0', unrealized_pnl: '0', fees: '0.05', net_pnl: '-0.05', unmarked: [] })
  })
})
