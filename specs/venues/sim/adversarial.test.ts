/**
 * Adversarial probes of the sim venue's matching semantics against what a real venue does: limits never traded
 * through, FOK/IOC/post-only, DAY expiry, amends, fees, cumQty, ended orders, duplicate client ids.
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import type { ExecutionReport } from '../../../src/venues/adapter.ts'
import { SimReason } from '../../../src/venues/index.ts'
import { harness, kinds, limit, market, okValue, START_MS, within } from './fixture.ts'

const fills = (reports: readonly ExecutionReport[]) => reports.filter((report) => report.kind === 'fill')

describe('sim venue: DAY expiry between price steps', () => {
  // Latency 1 ms each way, steps every 100 ms: a DAY order accepted at START+1 with a 50 ms life is due at START+51,
  // and the first price step that would expire it is at START+100.
  const options = { latencyMsMin: 1, latencyMsMax: 1, dayOrderTtlMs: 50 }

  test('an amend into a cross after the DAY expiry is too late and never fills', async () => {
    const { clock, venue, reports } = harness(options)
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'day', tif: 'DAY', price: d('49000') })), 2))
    await clock.advanceAsync(58) // now START+60: past the expiry, before the next step
    const amend = { clientOrderId: 'day', origClientOrderId: 'day', account: 'acct', symbol: 'BTC-USD', qty: d('1'), price: d('50001') }
    const outcome = await within(clock, venue.amend(amend), 5)
    expect(outcome).toEqual({ kind: 'rejected', reason: SimReason.tooLateToAmend })
    expect(kinds(reports)).toEqual(['new', 'expired', 'cancel_rejected'])
    expect(reports[1]).toMatchObject({ clientOrderId: 'day', cumQty: 0n, venueTimeMs: START_MS + 61 })
    expect(venue.inspect().trades).toEqual([])
    await clock.advanceAsync(1_000)
    expect(okValue(await within(clock, venue.orderStatus('day')))).toMatchObject({ status: 'expired', cumQty: 0n })
    expect(kinds(reports)).toEqual(['new', 'expired', 'cancel_rejected'])
  })

  test('a cancel after the DAY expiry is too late: the order expired, it was not canceled', async () => {
    const { clock, venue, reports } = harness(options)
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'day2', tif: 'DAY', price: d('49000') })), 2))
    await clock.advanceAsync(58)
    const cancel = { clientOrderId: 'x', origClientOrderId: 'day2', account: 'acct', symbol: 'BTC-USD' }
    expect(await within(clock, venue.cancel(cancel), 5)).toEqual({ kind: 'rejected', reason: SimReason.tooLateToCancel })
    expect(kinds(reports)).toEqual(['new', 'expired', 'cancel_rejected'])
    await clock.advanceAsync(1_000)
    expect(kinds(reports)).toEqual(['new', 'expired', 'cancel_rejected'])
    expect(venue.inspect().orders.map((order) => order.status)).toEqual(['expired'])
  })

  test('an amend before the DAY expiry still works, and the order expires on time afterwards', async () => {
    const { clock, venue, reports } = harness(options)
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'day3', tif: 'DAY', price: d('49000') })), 2))
    await clock.advanceAsync(20)
    const amend = { clientOrderId: 'day3', origClientOrderId: 'day3', account: 'acct', symbol: 'BTC-USD', qty: d('2'), price: d('49100') }
    okValue(await within(clock, venue.amend(amend), 5))
    await clock.advanceAsync(200)
    expect(kinds(reports)).toEqual(['new', 'replaced', 'expired'])
    expect(venue.inspect().orders).toHaveLength(1)
  })
})

describe('sim venue: limits are never traded through', () => {
  test('taker limit buys fill at or below the limit and sells at or above it, across a walking price', async () => {
    const { clock, venue, reports } = harness({ priceStepTicksMax: 500, seed: 7, partialFillProbability: 0.5, fillsPerMatchMax: 3 })
    const limits = new Map<string, { side: 'buy' | 'sell'; price: bigint }>()
    for (let index = 0; index < 60; index++) {
      const reference = venue.referencePrice('BTC-USD')?.price ?? 0n
      const side = index % 2 === 0 ? 'buy' : 'sell'
      const offset = d(String((index % 7) - 3))
      const price = side === 'buy' ? reference + offset : reference - offset
      const clientOrderId = `w${index}`
      limits.set(clientOrderId, { side, price })
      const tif = (['GTC', 'IOC', 'FOK', 'DAY'] as const)[index % 4] ?? 'GTC'
      okValue(await within(clock, venue.place(limit({ clientOrderId, side, price, tif, qty: d('0.01') })), 50))
    }
    await clock.advanceAsync(30_000)
    expect(fills(reports).length).toBeGreaterThan(20)
    for (const fill of fills(reports)) {
      const order = limits.get(fill.clientOrderId)
      if (order === undefined) throw new Error(`fill of unknown ${fill.clientOrderId}`)
      if (order.side === 'buy') expect(fill.lastPrice ?? 0n).toBeLessThanOrEqual(order.price)
      else expect(fill.lastPrice ?? 0n).toBeGreaterThanOrEqual(order.price)
    }
    // cumQty per order rises by lastQty and never passes the order's quantity.
    const cum = new Map<string, bigint>()
    for (const fill of fills(reports)) {
      const next = (cum.get(fill.clientOrderId) ?? 0n) + (fill.lastQty ?? 0n)
      cum.set(fill.clientOrderId, next)
      expect(fill.cumQty).toBe(next)
      expect(next).toBeLessThanOrEqual(d('0.01'))
    }
  })

  test('a partially taken limit rests at its limit and later fills there, never above a buy limit', async () => {
    const { clock, venue, reports } = harness({ partialFillProbability: 1 })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'p', price: d('50100'), qty: d('1') })), 20))
    venue.setReferencePrice('BTC-USD', d('50050'))
    await clock.advanceAsync(600_000)
    for (const fill of fills(reports)) expect(fill.lastPrice ?? 0n).toBeLessThanOrEqual(d('50100'))
    expect(fills(reports).at(-1)?.cumQty).toBe(d('1'))
  })
})

describe('sim venue: time in force and post-only', () => {
  test('FOK with short liquidity takes nothing, moves no balance, and the order is expired', async () => {
    const { clock, venue } = harness({ partialFillProbability: 1 })
    const before = okValue(await within(clock, venue.balances('acct')))
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'fok', tif: 'FOK', qty: d('2') }))))
    expect(okValue(await within(clock, venue.balances('acct')))).toEqual(before)
    expect(okValue(await within(clock, venue.orderStatus('fok')))).toMatchObject({ status: 'expired', cumQty: 0n })
    expect(okValue(await within(clock, venue.openOrders()))).toEqual([])
  })

  test('IOC and market orders never rest: nothing open, and no later step fills them', async () => {
    const { clock, venue, reports } = harness({ partialFillProbability: 1 })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'ioc', tif: 'IOC', price: d('49000') }))))
    okValue(await within(clock, venue.place(market({ clientOrderId: 'mkt', qty: d('1') }))))
    expect(okValue(await within(clock, venue.openOrders()))).toEqual([])
    const before = reports.length
    venue.setReferencePrice('BTC-USD', d('48000'))
    await clock.advanceAsync(10_000)
    expect(reports.length).toBe(before)
    expect(okValue(await within(clock, venue.orderStatus('ioc')))?.status).toBe('expired')
    expect(okValue(await within(clock, venue.orderStatus('mkt')))?.status).toBe('expired')
  })

  test('a post-only order only ever fills as maker at its own price, and a crossing sell is refused too', async () => {
    const { clock, venue, reports } = harness()
    const crossing = await within(clock, venue.place(limit({ side: 'sell', postOnly: true, price: d('49999.99') })))
    expect(crossing).toEqual({ kind: 'rejected', reason: SimReason.postOnlyWouldCross })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'pos', side: 'sell', postOnly: true, price: d('50000.01') }))))
    venue.setReferencePrice('BTC-USD', d('50500'))
    await clock.advanceAsync(200)
    expect(fills(reports)).toHaveLength(1)
    expect(fills(reports)[0]).toMatchObject({ clientOrderId: 'pos', liquidity: 'maker', lastPrice: d('50000.01') })
  })
})

describe('sim venue: amend, cancel and ended orders', () => {
  test('a canceled order never fills afterwards, even when the price crosses it', async () => {
    const { clock, venue, reports } = harness()
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'cx', price: d('49000') }))))
    okValue(await within(clock, venue.cancel({ clientOrderId: 'k', origClientOrderId: 'cx', account: 'acct', symbol: 'BTC-USD' })))
    venue.setReferencePrice('BTC-USD', d('48000'))
    await clock.advanceAsync(1_000)
    expect(kinds(reports)).toEqual(['new', 'canceled'])
    const amend = { clientOrderId: 'cx', origClientOrderId: 'cx', account: 'acct', symbol: 'BTC-USD', qty: d('1') }
    expect(await within(clock, venue.amend(amend))).toEqual({ kind: 'rejected', reason: SimReason.tooLateToAmend })
    expect(venue.inspect().trades).toEqual([])
  })

  test('an amend to below or at the filled quantity is refused and leaves the order as it was', async () => {
    const { clock, venue } = harness({ partialFillProbability: 1 })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'af', price: d('50000'), qty: d('1') })), 20))
    const before = okValue(await within(clock, venue.orderStatus('af'), 20))
    const filled = before?.cumQty ?? 0n
    expect(filled).toBeGreaterThan(0n)
    const base = { clientOrderId: 'af', origClientOrderId: 'af', account: 'acct', symbol: 'BTC-USD', price: d('49000') }
    expect(await within(clock, venue.amend({ ...base, qty: filled - d('0.001') }), 20)).toMatchObject({ reason: SimReason.invalidQuantity })
    expect(okValue(await within(clock, venue.orderStatus('af'), 20))).toEqual(before)
  })

  test('an amend to a new id that another order holds is refused as a duplicate and changes nothing', async () => {
    const { clock, venue } = harness()
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'h1', price: d('49000') }))))
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'h2', price: d('49000') }))))
    const amend = { clientOrderId: 'h2', origClientOrderId: 'h1', account: 'acct', symbol: 'BTC-USD', qty: d('5') }
    expect(await within(clock, venue.amend(amend))).toEqual({ kind: 'rejected', reason: SimReason.duplicateClientOrderId })
    expect(venue.inspect().orders.map((order) => [order.clientOrderId, order.qty])).toEqual([['h1', d('1')], ['h2', d('1')]])
  })
})

describe('sim venue: fees', () => {
  test('a taker fee is rounded up to 1e-8 and a maker rebate toward zero; cash moves with the fee sign', async () => {
    const { clock, venue, reports } = harness({ takerFeeBps: 5, makerFeeBps: -1, balances: {} })
    // 0.001 × 50 000.01 = 50.00001: 5 bps is 0.025000005 (charged 0.02500001), −1 bp is −0.005000001 (paid 0.005).
    venue.setReferencePrice('BTC-USD', d('50000.01'))
    okValue(await within(clock, venue.place(limit({ clientOrderId: 't', qty: d('0.001'), price: d('50000.01') }))))
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'm', side: 'sell', qty: d('0.001'), price: d('50000.02') }))))
    venue.setReferencePrice('BTC-USD', d('50000.02'))
    await clock.advanceAsync(200)
    // 0.001 × 50 000.02 = 50.00002: −1 bp is −0.005000002, rounded toward zero to −0.005.
    expect(fills(reports).map((fill) => [fill.clientOrderId, fill.liquidity, fill.fee])).toEqual([
      ['t', 'taker', d('0.02500001')],
      ['m', 'maker', d('-0.005')],
    ])
    const usd = okValue(await within(clock, venue.balances('acct'))).find((balance) => balance.asset === 'USD')?.total
    expect(usd).toBe(-d('50.00001') - d('0.02500001') + d('50.00002') + d('0.005'))
  })
})

describe('sim venue: cash rounding', () => {
  // An instrument whose notionals are finer than 1e-8: 1e-8 × 0.4 = 0.4e-8, 1e-8 × 0.6 = 0.6e-8.
  const MICRO = { symbol: 'MICRO-USD', baseAsset: 'MICRO', quoteAsset: 'USD', tick: 1n, lot: 1n, initialPrice: d('0.4') }

  test('the quote cash of a fill rounds against the account, as egress books it (a buy pays up, a sell gets down)', async () => {
    const { clock, venue } = harness({ instruments: [MICRO], balances: {}, takerFeeBps: 0 })
    okValue(await within(clock, venue.place(limit({ symbol: 'MICRO-USD', qty: 1n, price: d('0.4') }))))
    // Half-even would make this buy free (0.4e-8 → 0); egress's ledger books it as 1e-8 paid.
    expect(okValue(await within(clock, venue.balances('acct')))).toEqual([
      { account: 'acct', asset: 'MICRO', total: 1n },
      { account: 'acct', asset: 'USD', total: -1n },
    ])
    venue.setReferencePrice('MICRO-USD', d('0.6'))
    okValue(await within(clock, venue.place(limit({ symbol: 'MICRO-USD', side: 'sell', qty: 1n, price: d('0.6') }))))
    // Half-even would pay this sell 1e-8 (0.6e-8 → 1); egress books 0 received.
    expect(okValue(await within(clock, venue.balances('acct')))).toEqual([
      { account: 'acct', asset: 'MICRO', total: 0n },
      { account: 'acct', asset: 'USD', total: -1n },
    ])
  })
})
