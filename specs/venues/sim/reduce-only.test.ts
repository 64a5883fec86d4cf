/**
 * reduce_only at the sim venue: an order that would open or increase a position, or trade past it, is refused
 * (reduce_only_would_increase, which the gateway records as VENUE_REJECTED with that venue reason). The position is
 * the account's holding of the base asset at the venue. The sim used to ignore the flag: a reduce-only buy on a long,
 * or a sell of more than the long, simply traded.
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import { SimReason } from '../../../src/venues/index.ts'
import { BTC, harness, kinds, limit, market, okValue, within } from './fixture.ts'

// The fixture's account `acct` starts with 10 BTC: a long. Calls take ≤ 5 ms each way: 20 simulated ms settle one.
const CALL_MS = 20

/** What the account's trades at the venue moved its base asset by. */
function tradedNet(venue: ReturnType<typeof harness>['venue'], account = 'acct'): bigint {
  return venue.inspect().trades.filter((t) => t.account === account).reduce((sum, t) => sum + (t.side === 'buy' ? t.qty : -t.qty), 0n)
}

describe('sim venue: reduce-only orders', () => {
  test('on a long: a sell up to the long trades, a sell past it or any buy is refused with a reject report', async () => {
    const { clock, venue, reports } = harness()
    expect(await within(clock, venue.place(limit({ clientOrderId: 'up', side: 'buy', reduceOnly: true })), CALL_MS)).toEqual({ kind: 'rejected', reason: SimReason.reduceOnlyWouldIncrease })
    expect(await within(clock, venue.place(limit({ clientOrderId: 'past', side: 'sell', qty: d('10.001'), reduceOnly: true })), CALL_MS)).toEqual({ kind: 'rejected', reason: SimReason.reduceOnlyWouldIncrease })
    expect(reports.map((r) => [r.kind, r.reason])).toEqual([['rejected', SimReason.reduceOnlyWouldIncrease], ['rejected', SimReason.reduceOnlyWouldIncrease]])
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'down', side: 'sell', qty: d('10'), reduceOnly: true })), CALL_MS))
    expect(kinds(reports).slice(2)).toEqual(['new', 'fill'])
    expect(tradedNet(venue)).toBe(-d('10'))
    expect(venue.inspect().orders.map((o) => [o.clientOrderId, o.status])).toEqual([['up', 'rejected'], ['past', 'rejected'], ['down', 'filled']])
  })

  test('on a short: a buy up to the short trades, a sell is refused; with no position every reduce-only order is', async () => {
    const { clock, venue } = harness({ balances: {} })
    expect(await within(clock, venue.place(market({ clientOrderId: 'flat-sell', side: 'sell', reduceOnly: true })), CALL_MS)).toMatchObject({ reason: SimReason.reduceOnlyWouldIncrease })
    expect(await within(clock, venue.place(market({ clientOrderId: 'flat-buy', side: 'buy', reduceOnly: true })), CALL_MS)).toMatchObject({ reason: SimReason.reduceOnlyWouldIncrease })
    okValue(await within(clock, venue.place(market({ clientOrderId: 'short', side: 'sell', qty: d('2') })), CALL_MS))
    expect(await within(clock, venue.place(limit({ clientOrderId: 'more', side: 'sell', reduceOnly: true })), CALL_MS)).toMatchObject({ reason: SimReason.reduceOnlyWouldIncrease })
    expect(await within(clock, venue.place(limit({ clientOrderId: 'over', side: 'buy', qty: d('2.001'), reduceOnly: true })), CALL_MS)).toMatchObject({ reason: SimReason.reduceOnlyWouldIncrease })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'cover', side: 'buy', qty: d('2'), reduceOnly: true })), CALL_MS))
    expect(okValue(await within(clock, venue.balances('acct'), CALL_MS)).find((b) => b.asset === BTC.baseAsset)?.total).toBe(0n)
  })

  test('an amend that would take a resting reduce-only order past the position is refused; the order stands', async () => {
    const { clock, venue } = harness()
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'ro', side: 'sell', qty: d('4'), price: d('60000'), reduceOnly: true })), CALL_MS))
    const base = { account: 'acct', symbol: 'BTC-USD' }
    expect(await within(clock, venue.amend({ ...base, clientOrderId: 'ro', origClientOrderId: 'ro', qty: d('11') }), CALL_MS)).toEqual({ kind: 'rejected', reason: SimReason.reduceOnlyWouldIncrease })
    okValue(await within(clock, venue.amend({ ...base, clientOrderId: 'ro', origClientOrderId: 'ro', qty: d('10') }), CALL_MS))
    expect(okValue(await within(clock, venue.orderStatus('ro'), CALL_MS))).toMatchObject({ qty: d('10'), status: 'open' })
  })

  test('a resting reduce-only order the position has shrunk below is expired, unfilled, when the price reaches it', async () => {
    const { clock, venue, reports } = harness()
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'ro', side: 'sell', qty: d('5'), price: d('60000'), reduceOnly: true })), CALL_MS))
    // Another sell takes the long down to 2 while the reduce-only sell of 5 rests.
    okValue(await within(clock, venue.place(market({ clientOrderId: 'out', side: 'sell', qty: d('8') })), CALL_MS))
    venue.setReferencePrice('BTC-USD', d('60000'))
    await clock.advanceAsync(CALL_MS)
    const roReports = reports.filter((r) => r.clientOrderId === 'ro')
    expect(roReports.map((r) => [r.kind, r.reason, r.cumQty])).toEqual([['new', undefined, 0n], ['expired', SimReason.reduceOnlyWouldIncrease, 0n]])
    expect(tradedNet(venue)).toBe(-d('8'))
  })

  test('deposits (serve passes the paper fundings) are part of the position a reduce-only sell may reduce, not of balances()', async () => {
    const { clock, venue } = harness({ balances: {}, deposits: { acct: { BTC: d('3') } } })
    expect(await within(clock, venue.place(limit({ clientOrderId: 'past', side: 'sell', qty: d('3.001'), reduceOnly: true })), CALL_MS)).toMatchObject({ reason: SimReason.reduceOnlyWouldIncrease })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'close', side: 'sell', qty: d('3'), reduceOnly: true })), CALL_MS))
    expect(okValue(await within(clock, venue.balances('acct'), CALL_MS)).find((b) => b.asset === BTC.baseAsset)?.total).toBe(-d('3'))
    expect(await within(clock, venue.place(limit({ clientOrderId: 'again', side: 'sell', qty: d('0.001'), reduceOnly: true })), CALL_MS)).toMatchObject({ reason: SimReason.reduceOnlyWouldIncrease })
  })
})
