import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import { SimReason } from '../../../src/venues/index.ts'
import { harness, kinds, limit, market, okValue, within } from './fixture.ts'

describe('sim venue matching', () => {
  test('a marketable limit buy fills fully as taker at the reference price', async () => {
    const { clock, venue, reports } = harness()
    const ack = okValue(await within(clock, venue.place(limit({ price: d('50100') }))))
    expect(ack.venueOrderId).toBe('sim-o1')
    expect(kinds(reports)).toEqual(['new', 'fill'])
    const fill = reports[1]
    expect(fill).toMatchObject({ execId: 'sim-x2', cumQty: d('1'), lastQty: d('1'), lastPrice: d('50000') })
    expect(fill).toMatchObject({ liquidity: 'taker', feeAsset: 'USD', fee: d('25') }) // 5 bps of 50 000
  })

  test('a non-marketable limit rests and fills as maker at its limit when the price reaches it', async () => {
    const { clock, venue, reports } = harness()
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'rest', price: d('49900') }))))
    expect(kinds(reports)).toEqual(['new'])
    expect(okValue(await within(clock, venue.openOrders('acct'))).map((o) => o.clientOrderId)).toEqual(['rest'])
    venue.setReferencePrice('BTC-USD', d('49950'))
    await clock.advanceAsync(500)
    expect(kinds(reports)).toEqual(['new'])
    venue.setReferencePrice('BTC-USD', d('49890'))
    await clock.advanceAsync(500)
    expect(kinds(reports)).toEqual(['new', 'fill'])
    expect(reports[1]).toMatchObject({ lastPrice: d('49900'), liquidity: 'maker', fee: d('4.99') })
    expect(okValue(await within(clock, venue.openOrders()))).toEqual([])
  })

  test('resting orders fill when the random walk crosses them', async () => {
    const { clock, venue, reports } = harness({ priceStepTicksMax: 50, seed: 5 })
    const start = venue.referencePrice('BTC-USD')?.price ?? 0n
    okValue(await within(clock, venue.place(limit({ price: start - d('1'), qty: d('0.5') }))))
    okValue(await within(clock, venue.place(limit({ side: 'sell', price: start + d('1'), qty: d('0.5') }))))
    for (let index = 0; index < 600 && kinds(reports).filter((k) => k === 'fill').length < 2; index++) {
      await clock.advanceAsync(1_000)
    }
    expect(kinds(reports).filter((kind) => kind === 'fill')).toHaveLength(2)
    expect(reports.filter((r) => r.kind === 'fill').every((r) => r.liquidity === 'maker')).toBe(true)
  })

  test('with short liquidity a marketable order fills partially, rests, and fills the rest as maker later', async () => {
    const { clock, venue, reports } = harness({ partialFillProbability: 1, fillsPerMatchMax: 3 })
    // 20 ms: the answer is back (latency ≤ 5 ms each way) and the first price step (100 ms) has not come yet.
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'p', price: d('50000'), qty: d('1') })), 20))
    const fills = reports.filter((report) => report.kind === 'fill')
    expect(fills.length).toBeGreaterThanOrEqual(1)
    expect(fills.every((fill) => fill.liquidity === 'taker')).toBe(true)
    const status = okValue(await within(clock, venue.orderStatus('p'), 20))
    expect(status?.status).toBe('partially_filled')
    expect(status?.cumQty).toBe(fills.at(-1)?.cumQty ?? -1n)
    const total = fills.reduce((sum, fill) => sum + (fill.lastQty ?? 0n), 0n)
    expect(total).toBe(status?.cumQty ?? -1n)
    // Cumulative quantity is monotonic and never exceeds the order.
    const cums = fills.map((fill) => fill.cumQty)
    expect([...cums].sort((a, b) => (a < b ? -1 : 1))).toEqual(cums)
    expect(cums.every((cum) => cum < d('1'))).toBe(true)
    // The price stays at the limit, so each step makes part of the remainder until nothing is left.
    await clock.advanceAsync(600_000)
    expect(okValue(await within(clock, venue.orderStatus('p')))).toMatchObject({ status: 'filled', cumQty: d('1') })
    expect(reports.filter((report) => report.kind === 'fill').at(-1)?.liquidity).toBe('maker')
  })

  test('a fill can arrive in several executions, each with its own execId', async () => {
    const { clock, venue, reports } = harness({ fillsPerMatchMax: 4, seed: 11 })
    for (let index = 0; index < 5; index++) okValue(await within(clock, venue.place(limit({ qty: d('1') }))))
    const fills = reports.filter((report) => report.kind === 'fill')
    expect(fills.length).toBeGreaterThan(5)
    expect(new Set(fills.map((fill) => fill.execId)).size).toBe(fills.length)
  })

  test('IOC fills what it can now and expires the rest', async () => {
    const { clock, venue, reports } = harness({ partialFillProbability: 1 })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'ioc', tif: 'IOC' }))))
    expect(kinds(reports)[0]).toBe('new')
    expect(kinds(reports).at(-1)).toBe('expired')
    const status = okValue(await within(clock, venue.orderStatus('ioc')))
    expect(status?.status).toBe('expired')
    expect(status?.cumQty).toBeGreaterThan(0n)
    expect(status?.cumQty).toBeLessThan(d('1'))
  })

  test('an IOC that cannot trade now expires without a fill', async () => {
    const { clock, venue, reports } = harness()
    okValue(await within(clock, venue.place(limit({ tif: 'IOC', price: d('49000') }))))
    expect(kinds(reports)).toEqual(['new', 'expired'])
  })

  test('FOK fills everything when liquidity allows and nothing otherwise', async () => {
    const full = harness()
    okValue(await within(full.clock, full.venue.place(limit({ tif: 'FOK' }))))
    expect(kinds(full.reports)).toEqual(['new', 'fill'])
    const short = harness({ partialFillProbability: 1 })
    okValue(await within(short.clock, short.venue.place(limit({ clientOrderId: 'fok', tif: 'FOK' }))))
    expect(kinds(short.reports)).toEqual(['new', 'expired'])
    expect(short.reports[1]?.cumQty).toBe(0n)
    expect(short.venue.inspect().trades).toEqual([])
  })

  test('a post-only order that would cross is rejected and leaves a rejected record', async () => {
    const { clock, venue, reports } = harness()
    const outcome = await within(clock, venue.place(limit({ clientOrderId: 'po', postOnly: true, price: d('50000') })))
    expect(outcome).toEqual({ kind: 'rejected', reason: SimReason.postOnlyWouldCross })
    expect(reports).toHaveLength(1)
    expect(reports[0]).toMatchObject({ kind: 'rejected', clientOrderId: 'po', reason: SimReason.postOnlyWouldCross })
    expect(okValue(await within(clock, venue.orderStatus('po')))?.status).toBe('rejected')
  })

  test('a post-only order that does not cross rests and fills as maker', async () => {
    const { clock, venue, reports } = harness()
    okValue(await within(clock, venue.place(limit({ postOnly: true, price: d('49999.99') }))))
    venue.setReferencePrice('BTC-USD', d('49999'))
    await clock.advanceAsync(200)
    expect(reports.at(-1)).toMatchObject({ kind: 'fill', liquidity: 'maker', lastPrice: d('49999.99') })
  })

  test('market orders fill at the reference price plus slippage against the taker', async () => {
    const { clock, venue, reports } = harness({ marketSlippageTicksMax: 10 })
    okValue(await within(clock, venue.place(market({ side: 'buy', qty: d('0.1') }))))
    okValue(await within(clock, venue.place(market({ side: 'sell', qty: d('0.1') }))))
    const [buy, sell] = reports.filter((report) => report.kind === 'fill')
    expect(buy?.lastPrice).toBeGreaterThanOrEqual(d('50000'))
    expect(buy?.lastPrice).toBeLessThanOrEqual(d('50000.10'))
    expect(sell?.lastPrice).toBeLessThanOrEqual(d('50000'))
    expect(sell?.lastPrice).toBeGreaterThanOrEqual(d('49999.90'))
  })

  test('fills move balances: base by quantity, quote by notional and fee', async () => {
    const { clock, venue } = harness({ takerFeeBps: 10 })
    okValue(await within(clock, venue.place(limit({ qty: d('2'), price: d('50000') }))))
    okValue(await within(clock, venue.place(limit({ side: 'sell', qty: d('0.5'), price: d('50000') }))))
    const balances = okValue(await within(clock, venue.balances('acct')))
    // Buy 2 @ 50 000 costs 100 000 + 100 fee; sell 0.5 brings 25 000 − 25 fee.
    expect(balances).toEqual([
      { account: 'acct', asset: 'BTC', total: d('11.5') },
      { account: 'acct', asset: 'USD', total: d('924875') },
    ])
    expect(okValue(await within(clock, venue.balances('nobody')))).toEqual([])
  })

  test('malformed orders are rejected with a reason: symbol, lot, tick, contradictory fields', async () => {
    const { clock, venue } = harness()
    const reasonOf = async (overrides: Parameters<typeof limit>[0]) => {
      const outcome = await within(clock, venue.place(limit(overrides)))
      return outcome.kind === 'rejected' ? outcome.reason : outcome.kind
    }
    expect(await reasonOf({ symbol: 'DOGE-USD' })).toBe(SimReason.unknownSymbol)
    expect(await reasonOf({ qty: d('0.0005') })).toBe(SimReason.invalidQuantity)
    expect(await reasonOf({ qty: 0n })).toBe(SimReason.invalidQuantity)
    expect(await reasonOf({ price: d('50000.005') })).toBe(SimReason.invalidPrice)
    expect(await reasonOf({ postOnly: true, tif: 'IOC', price: d('1') })).toBe(SimReason.invalidOrder)
    expect(await within(clock, venue.place(market({ postOnly: true })))).toMatchObject({ reason: SimReason.invalidOrder })
  })

  test('DAY orders expire after the configured time to live', async () => {
    const { clock, venue, reports } = harness({ dayOrderTtlMs: 60_000 })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'day', tif: 'DAY', price: d('40000') })), 20))
    await clock.advanceAsync(59_000)
    expect(kinds(reports)).toEqual(['new'])
    await clock.advanceAsync(2_000)
    expect(kinds(reports)).toEqual(['new', 'expired'])
    expect(clock.runUntilIdle(1_000).idle).toBe(true)
  })
})
