// A sim venue resumed from a memory (src/venues/sim/memory.ts) holds its orders as they were left: a partly filled
// order fills only what is left, an amended one is known by each id of its chain, and a DAY order keeps the expiry it
// was accepted with (one that expired while the venue was down expires at the first price step). Trades it made and
// never reported come back under ids of its new session, in execution order among the others.
import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import type { RestingOrder, SimMemory } from '../../../src/venues/sim/index.ts'
import { START_MS, harness, kinds, limit, okValue, within } from './fixture.ts'

const DAY_TTL_MS = 60_000

function resting(overrides: Partial<RestingOrder> & Pick<RestingOrder, 'venueOrderId' | 'clientOrderIds'>): RestingOrder {
  return {
    account: 'acct',
    symbol: 'BTC-USD',
    side: 'buy',
    type: 'limit',
    tif: 'GTC',
    postOnly: false,
    reduceOnly: false,
    qty: d('1'),
    price: d('49000'),
    cumQty: 0n,
    createdAtMs: START_MS - 1_000,
    ...overrides,
  }
}

function memory(orders: RestingOrder[]): SimMemory {
  const trades = [
    { execId: 'sim-x1', clientOrderId: 'p1', venueOrderId: 'sim-o2', account: 'acct', symbol: 'BTC-USD', side: 'buy' as const, qty: d('0.4'), price: d('49000'), fee: 0n, feeAsset: 'USD', liquidity: 'maker' as const, venueTimeMs: START_MS - 500 },
  ]
  return { session: 's1', orders, ended: [], trades, unreported: [], balances: new Map([['acct', new Map([['BTC', d('0.4')], ['USD', -d('19600')]])]]) }
}

describe('a resumed sim venue', () => {
  test('a partly filled order fills only what is left, its earlier trade kept', async () => {
    const { clock, venue, reports } = harness({ makerFeeBps: 0, balances: {} })
    venue.resume(memory([resting({ venueOrderId: 'sim-o2', clientOrderIds: ['p1'], cumQty: d('0.4') })]))
    expect(okValue(await within(clock, venue.orderStatus('p1')))).toMatchObject({ status: 'partially_filled', cumQty: d('0.4') })
    venue.setReferencePrice('BTC-USD', d('49000'))
    await clock.advanceAsync(1_000)
    const fills = reports.filter((report) => report.kind === 'fill')
    expect(fills.map((report) => [report.lastQty, report.cumQty])).toEqual([[d('0.6'), d('1')]])
    expect(venue.inspect().trades.map((trade) => [trade.execId, trade.qty])).toEqual([['sim-x1', d('0.4')], [fills[0]!.execId, d('0.6')]])
    expect(okValue(await within(clock, venue.balances('acct')))).toEqual([
      { account: 'acct', asset: 'BTC', total: d('1') },
      { account: 'acct', asset: 'USD', total: -d('49000') },
    ])
  })

  test('an amended order is known by each id of its chain and reports under the last', async () => {
    const { clock, venue, reports } = harness({ balances: {} })
    venue.resume(memory([resting({ venueOrderId: 'sim-o3', clientOrderIds: ['a1', 'a1.a1'], qty: d('2'), price: d('48000') })]))
    for (const id of ['a1', 'a1.a1']) {
      expect(okValue(await within(clock, venue.orderStatus(id)))).toMatchObject({ venueOrderId: 'sim-o3', clientOrderId: 'a1.a1', qty: d('2'), price: d('48000') })
    }
    okValue(await within(clock, venue.cancel({ clientOrderId: 'a1.c1', origClientOrderId: 'a1.a1', account: 'acct', symbol: 'BTC-USD' })))
    expect(kinds(reports)).toEqual(['canceled'])
    expect(reports[0]?.origClientOrderId).toBe('a1.a1')
  })

  test('a DAY order keeps the expiry it was accepted with; one that expired while the venue was down expires at once', async () => {
    const { clock, venue, reports } = harness({ dayOrderTtlMs: DAY_TTL_MS, balances: {} })
    venue.resume(memory([
      resting({ venueOrderId: 'sim-o1', clientOrderIds: ['d-late'], tif: 'DAY', createdAtMs: START_MS - 2 * DAY_TTL_MS }),
      resting({ venueOrderId: 'sim-o4', clientOrderIds: ['d-live'], tif: 'DAY', createdAtMs: START_MS - DAY_TTL_MS / 2 }),
    ]))
    await clock.advanceAsync(1_000)
    expect(reports.map((report) => [report.kind, report.clientOrderId])).toEqual([['expired', 'd-late']])
    await clock.advanceAsync(DAY_TTL_MS / 2 - 2_000)
    expect(reports).toHaveLength(1)
    await clock.advanceAsync(2_000)
    expect(reports.map((report) => [report.kind, report.clientOrderId])).toEqual([['expired', 'd-late'], ['expired', 'd-live']])
    // Ids issued after the resume never repeat one issued before it.
    const ack = okValue(await within(clock, venue.place(limit({ clientOrderId: 'n1' }))))
    expect(ack.venueOrderId).toBe('sim-s1-o3')
  })

  test('unreported trades are named under the new session, x1 on, and join the history in execution order', async () => {
    const { clock, venue, reports } = harness({ makerFeeBps: 0, balances: {} })
    const unreportedAt = (venueTimeMs: number, qty: string) => ({
      clientOrderId: 'p1', venueOrderId: 'sim-o2', account: 'acct', symbol: 'BTC-USD', side: 'buy' as const, qty: d(qty), price: d('49000'), fee: 0n, feeAsset: 'USD', liquidity: 'taker' as const, venueTimeMs,
    })
    const remembered = memory([resting({ venueOrderId: 'sim-o2', clientOrderIds: ['p1'], cumQty: d('0.7') })])
    venue.resume({ ...remembered, unreported: [unreportedAt(START_MS - 900, '0.1'), unreportedAt(START_MS - 100, '0.2')] })
    expect(venue.inspect().trades.map((trade) => [trade.execId, trade.qty, trade.venueTimeMs])).toEqual([
      ['sim-s1-x1', d('0.1'), START_MS - 900],
      ['sim-x1', d('0.4'), START_MS - 500],
      ['sim-s1-x2', d('0.2'), START_MS - 100],
    ])
    // The venue's own ids go on from there.
    venue.setReferencePrice('BTC-USD', d('49000'))
    await clock.advanceAsync(1_000)
    expect(reports.filter((report) => report.kind === 'fill').map((report) => report.execId)).toEqual(['sim-s1-x3'])
  })
})
