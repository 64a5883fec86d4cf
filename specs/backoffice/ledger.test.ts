import { describe, expect, test } from 'bun:test'
import { formatDecimal } from '../../src/domain/decimal.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import {
  accountBook,
  applyEvent,
  assertBalanced,
  averageCost,
  initialLedger,
  positionKey,
  trialBalance,
  unrealizedPnl,
  type LedgerState,
  type Posting,
} from '../../src/backoffice/index.ts'
import { ACCOUNT, accepted, canceled, d, fill, funded, signed, unknown } from './events.ts'

/** Applies events from LSN 1 and returns the state and every posting, rendered `lsn.seq book asset ±amount`. */
function ledgerOf(events: DomainEvent[]): { state: LedgerState; postings: string[]; fills: number } {
  const state = initialLedger()
  const postings: string[] = []
  let fills = 0
  events.forEach((event, index) => {
    const booked = applyEvent(state, event, index + 1)
    postings.push(...booked.postings.map(render))
    if (booked.fill !== null) fills++
  })
  return { state, postings, fills }
}

function render(posting: Posting): string {
  return `${posting.lsn}.${posting.seq} ${posting.book} ${posting.asset} ${signed(posting.amount)}`
}

function position(state: LedgerState, symbol = 'BTC-USD') {
  const found = state.positions.get(positionKey(ACCOUNT, 'sim', symbol))
  if (found === undefined) throw new Error(`no position in ${symbol}`)
  return {
    net: formatDecimal(found.netQty),
    avg: averageCost(found) === null ? null : formatDecimal(averageCost(found) as bigint),
    realized: formatDecimal(found.realizedPnl),
    fees: Object.fromEntries([...found.fees].map(([asset, fee]) => [asset, formatDecimal(fee)])),
    fills: found.fillCount,
  }
}

function balance(state: LedgerState, asset: string): string {
  return formatDecimal(state.books.get(accountBook(ACCOUNT))?.get(asset) ?? 0n)
}

function reserved(state: LedgerState, asset: string): string {
  return formatDecimal(state.reserved.get(ACCOUNT)?.get(asset) ?? 0n)
}

function expectSound(state: LedgerState): void {
  for (const [asset, sum] of trialBalance(state)) expect(`${asset} ${sum}`).toBe(`${asset} 0`)
}

describe('golden ledgers', () => {
  test('funding posts from the funding equity book', () => {
    const { state, postings } = ledgerOf([funded('USD', '1000')])
    expect(postings).toEqual(['1.0 acct:acct-1 USD +1000', '1.1 equity:funding USD -1000'])
    expect(balance(state, 'USD')).toBe('1000')
    expectSound(state)
  })

  test('a buy posts the asset leg and the cash leg against the venue', () => {
    const { state, postings, fills } = ledgerOf([
      funded('USD', '100000'),
      accepted({ orderId: 'o1', side: 'buy', qty: '1', price: '60000' }),
      fill('o1', { execId: 'x1', qty: '1', price: '60000', cumQty: '1' }),
    ])
    expect(postings.slice(2)).toEqual([
      '3.0 acct:acct-1 BTC +1',
      '3.1 venue:sim BTC -1',
      '3.2 acct:acct-1 USD -60000',
      '3.3 venue:sim USD +60000',
    ])
    expect(fills).toBe(1)
    expect(balance(state, 'USD')).toBe('40000')
    expect(balance(state, 'BTC')).toBe('1')
    expect(reserved(state, 'USD')).toBe('0')
    expect(position(state)).toEqual({ net: '1', avg: '60000', realized: '0', fees: {}, fills: 1 })
    expectSound(state)
  })

  test('a sell of held inventory realizes PnL against the average cost', () => {
    const { state } = ledgerOf([
      funded('USD', '100000'),
      accepted({ orderId: 'b1', side: 'buy', qty: '2', price: '100', symbol: 'AAPL', base: 'AAPL' }),
      fill('b1', { execId: 'x1', qty: '1', price: '100', cumQty: '1' }),
      fill('b1', { execId: 'x2', qty: '1', price: '110', cumQty: '2' }),
      accepted({ orderId: 's1', side: 'sell', qty: '1', price: '120', symbol: 'AAPL', base: 'AAPL' }),
      fill('s1', { execId: 'x3', qty: '1', price: '120', cumQty: '1' }),
    ])
    expect(position(state, 'AAPL')).toEqual({ net: '1', avg: '105', realized: '15', fees: {}, fills: 3 })
    expect(balance(state, 'USD')).toBe(formatDecimal(d('100000') - d('210') + d('120')))
    expectSound(state)
  })

  test('a partial fill lowers the reservation to the unfilled share; the cancel releases the rest', () => {
    const events = [
      funded('USD', '10000'),
      accepted({ orderId: 'o1', side: 'buy', qty: '4', price: '100', symbol: 'ETH-USD', base: 'ETH', reservation: '401' }),
      fill('o1', { execId: 'x1', qty: '1', price: '100', cumQty: '1' }),
    ]
    const partial = ledgerOf(events)
    // 401 × 3/4 = 300.75 still held for the three unfilled units.
    expect(reserved(partial.state, 'USD')).toBe('300.75')
    expect(position(partial.state, 'ETH-USD').net).toBe('1')
    const done = ledgerOf([...events, canceled('o1')])
    expect(reserved(done.state, 'USD')).toBe('0')
    expect(balance(done.state, 'USD')).toBe('9900')
  })

  test('an Unknown order keeps its reservation (worst case)', () => {
    const { state } = ledgerOf([
      funded('USD', '10000'),
      accepted({ orderId: 'o1', side: 'buy', qty: '1', price: '100', symbol: 'ETH-USD', base: 'ETH', reservation: '100.1' }),
      unknown('o1'),
    ])
    expect(reserved(state, 'USD')).toBe('100.1')
  })

  test('a fee posts to the venue fee book and is kept apart from PnL', () => {
    const { state, postings } = ledgerOf([
      funded('USD', '100000'),
      accepted({ orderId: 'o1', side: 'buy', qty: '0.5', price: '60000' }),
      fill('o1', { execId: 'x1', qty: '0.5', price: '60000', cumQty: '0.5', fee: '3', feeAsset: 'USD' }),
    ])
    expect(postings.slice(2)).toEqual([
      '3.0 acct:acct-1 BTC +0.5',
      '3.1 venue:sim BTC -0.5',
      '3.2 acct:acct-1 USD -30000',
      '3.3 venue:sim USD +30000',
      '3.4 acct:acct-1 USD -3',
      '3.5 fees:sim USD +3',
    ])
    expect(position(state)).toEqual({ net: '0.5', avg: '60000', realized: '0', fees: { USD: '3' }, fills: 1 })
    expect(balance(state, 'USD')).toBe('69997')
    expectSound(state)
  })

  test('a round trip realizes exactly the cash it made, and the position closes with no basis left', () => {
    const { state } = ledgerOf([
      funded('USD', '100000'),
      accepted({ orderId: 'b', side: 'buy', qty: '3', price: '100', symbol: 'ETH-USD', base: 'ETH' }),
      fill('b', { execId: 'x1', qty: '3', price: '100', cumQty: '3', fee: '0.3' }),
      accepted({ orderId: 's', side: 'sell', qty: '3', price: '90', symbol: 'ETH-USD', base: 'ETH' }),
      fill('s', { execId: 'x2', qty: '1', price: '90', cumQty: '1', fee: '0.09' }),
      fill('s', { execId: 'x3', qty: '2', price: '95', cumQty: '3', fee: '0.19' }),
    ])
    expect(position(state, 'ETH-USD')).toEqual({ net: '0', avg: null, realized: '-20', fees: { USD: '0.58' }, fills: 3 })
    expect(balance(state, 'USD')).toBe('99979.42')
    expect(balance(state, 'ETH')).toBe('0')
    expectSound(state)
  })

  test('a sell through zero closes the long, realizes on it, and opens a short at the fill price', () => {
    const { state } = ledgerOf([
      funded('USD', '100000'),
      funded('BTC', '5'),
      accepted({ orderId: 'b', side: 'buy', qty: '1', price: '100' }),
      fill('b', { execId: 'x1', qty: '1', price: '100', cumQty: '1' }),
      accepted({ orderId: 's', side: 'sell', qty: '3', price: '110' }),
      fill('s', { execId: 'x2', qty: '3', price: '110', cumQty: '3' }),
    ])
    const flipped = state.positions.get(positionKey(ACCOUNT, 'sim', 'BTC-USD'))
    expect(position(state)).toEqual({ net: '-2', avg: '110', realized: '10', fees: {}, fills: 2 })
    expect(formatDecimal(unrealizedPnl(flipped!, d('100')))).toBe('20')
    expect(formatDecimal(unrealizedPnl(flipped!, d('115')))).toBe('-10')
    expectSound(state)
  })

  test('a buy back through zero from a short flips to a long', () => {
    const { state } = ledgerOf([
      funded('USD', '100000'),
      funded('BTC', '5'),
      accepted({ orderId: 's', side: 'sell', qty: '2', price: '100' }),
      fill('s', { execId: 'x1', qty: '2', price: '100', cumQty: '2' }),
      accepted({ orderId: 'b', side: 'buy', qty: '3', price: '90' }),
      fill('b', { execId: 'x2', qty: '3', price: '90', cumQty: '3' }),
    ])
    expect(position(state)).toEqual({ net: '1', avg: '90', realized: '20', fees: {}, fills: 2 })
  })

  test('an entry that does not balance is refused as a bug', () => {
    const bad: Posting[] = [
      { lsn: 9, seq: 0, book: 'acct:a', accountId: 'a', asset: 'USD', amount: 5n, kind: 'funding', ref: 'r', atMs: 0 },
      { lsn: 9, seq: 1, book: 'equity:funding', accountId: 'a', asset: 'USD', amount: -4n, kind: 'funding', ref: 'r', atMs: 0 },
    ]
    expect(() => assertBalanced(bad)).toThrow(/does not balance in USD/)
  })

  test('every asset of an entry is checked, wherever its postings lie', () => {
    const at = { lsn: 9, accountId: 'a', kind: 'trade_base', ref: 'r', atMs: 0 } as const
    const interleaved = (btcOff: bigint): Posting[] => [
      { ...at, seq: 0, book: 'acct:a', asset: 'BTC', amount: 2n },
      { ...at, seq: 1, book: 'acct:a', asset: 'USD', amount: -7n },
      { ...at, seq: 2, book: 'venue:v', asset: 'USD', amount: 7n },
      { ...at, seq: 3, book: 'acct:a', asset: 'BNB', amount: -1n },
      { ...at, seq: 4, book: 'venue:v', asset: 'BTC', amount: -2n + btcOff },
      { ...at, seq: 5, book: 'fees:v', asset: 'BNB', amount: 1n },
    ]
    expect(() => assertBalanced(interleaved(0n))).not.toThrow()
    expect(() => assertBalanced(interleaved(1n))).toThrow(/does not balance in BTC: off by 1/)
    const lastAssetOff = interleaved(0n).map((posting) => (posting.seq === 5 ? { ...posting, amount: 3n } : posting))
    expect(() => assertBalanced(lastAssetOff)).toThrow(/does not balance in BNB: off by 2/)
  })

  test('events out of LSN order are refused', () => {
    const state = initialLedger()
    applyEvent(state, funded('USD', '1'), 5)
    expect(() => applyEvent(state, funded('USD', '1'), 5)).toThrow(/LSN order/)
  })
})
