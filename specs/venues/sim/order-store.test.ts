import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import { SimReason } from '../../../src/venues/index.ts'
import { harness, limit, okValue, within } from './fixture.ts'

// Calls take ≤ 5 ms each way; 20 simulated ms settles one. Price steps never move the price (priceStepTicksMax 0).
const CALL_MS = 20

describe('sim venue: a bounded order store', () => {
  test('ended orders are forgotten oldest first once past the retention, and only when room is needed', async () => {
    const { clock, venue } = harness({ ordersMax: 3, endedOrderRetentionMs: 1_000 })
    const ids = ['f1', 'f2', 'f3']
    // Marketable IOC buys: each fills at once and ends.
    for (const clientOrderId of ids) okValue(await within(clock, venue.place(limit({ clientOrderId, tif: 'IOC', price: d('50100') })), CALL_MS))
    const full = await within(clock, venue.place(limit({ clientOrderId: 'early', tif: 'IOC', price: d('50100') })), CALL_MS)
    expect(full).toEqual({ kind: 'rejected', reason: SimReason.venueOrderLimit })
    expect(venue.inspect().orders.map((order) => order.clientOrderId)).toEqual(ids)

    await clock.advanceAsync(1_000)
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'late', tif: 'IOC', price: d('50100') })), CALL_MS))
    const inspection = venue.inspect()
    expect(inspection.ordersForgotten).toBe(1)
    expect(inspection.orders.map((order) => order.clientOrderId)).toEqual(['f2', 'f3', 'late'])
    expect(inspection.trades.map((trade) => trade.clientOrderId)).toEqual(['f2', 'f3', 'late'])
    expect(okValue(await within(clock, venue.orderStatus('f1'), CALL_MS))).toBeNull()
    expect(okValue(await within(clock, venue.trades({ clientOrderId: 'f1' }), CALL_MS))).toEqual([])
    expect(okValue(await within(clock, venue.orderStatus('f2'), CALL_MS))?.status).toBe('filled')
  })

  test('open orders are never forgotten: a venue full of them refuses new orders however much time passes', async () => {
    const { clock, venue } = harness({ ordersMax: 2, endedOrderRetentionMs: 0 })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'rest1', price: d('49000') })), CALL_MS))
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'rest2', price: d('49000') })), CALL_MS))
    await clock.advanceAsync(3_600_000)
    const refused = await within(clock, venue.place(limit({ clientOrderId: 'more', price: d('49000') })), CALL_MS)
    expect(refused).toEqual({ kind: 'rejected', reason: SimReason.venueOrderLimit })
    expect(okValue(await within(clock, venue.openOrders('acct'), CALL_MS)).map((order) => order.clientOrderId)).toEqual(['rest1', 'rest2'])
    expect(venue.inspect().ordersForgotten).toBe(0)
  })

  test('the retention runs from when an order ended, not from when it was created', async () => {
    const { clock, venue } = harness({ ordersMax: 2, endedOrderRetentionMs: 1_000 })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'old', price: d('49000') })), CALL_MS))
    await clock.advanceAsync(10_000)
    okValue(await within(clock, venue.cancel({ clientOrderId: 'old-x', origClientOrderId: 'old', account: 'acct', symbol: 'BTC-USD' }), CALL_MS))
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'next', tif: 'IOC', price: d('50100') })), CALL_MS))
    // Two held: 'old' ended (canceled) less than the retention ago, 'next' ended too but just now.
    const tooSoon = await within(clock, venue.place(limit({ clientOrderId: 'third', tif: 'IOC', price: d('50100') })), CALL_MS)
    expect(tooSoon).toEqual({ kind: 'rejected', reason: SimReason.venueOrderLimit })
    expect(okValue(await within(clock, venue.orderStatus('old'), CALL_MS))?.status).toBe('canceled')
    await clock.advanceAsync(1_000)
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'third', tif: 'IOC', price: d('50100') })), CALL_MS))
    expect(okValue(await within(clock, venue.orderStatus('old'), CALL_MS))).toBeNull()
  })

  test('a held ended order still refuses a place that repeats its client order id', async () => {
    const { clock, venue } = harness({ ordersMax: 10, endedOrderRetentionMs: 1_000 })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'once', tif: 'IOC', price: d('50100') })), CALL_MS))
    const repeat = await within(clock, venue.place(limit({ clientOrderId: 'once', tif: 'IOC', price: d('50100') })), CALL_MS)
    expect(repeat).toEqual({ kind: 'rejected', reason: SimReason.duplicateClientOrderId })
    expect(venue.inspect().orders).toHaveLength(1)
  })

  test('a long run at a steady rate stays within the bound and never refuses an order', async () => {
    const { clock, venue } = harness({ ordersMax: 500, endedOrderRetentionMs: 2_000 })
    // 100 orders a second for 60 s: 6,000 orders through a venue that holds at most 500 (2 s of them is 200).
    for (let second = 0; second < 60; second++) {
      for (let index = 0; index < 100; index++) {
        okValue(await within(clock, venue.place(limit({ clientOrderId: `s${second}-${index}`, tif: 'IOC', price: d('50100'), qty: d('0.001') })), 10))
      }
    }
    const inspection = venue.inspect()
    expect(inspection.orders.length).toBeLessThanOrEqual(500)
    expect(inspection.ordersForgotten + inspection.orders.length).toBe(6_000)
    expect(inspection.trades.length).toBe(inspection.orders.length)
  })

  test('an amended order forgotten takes every id of its chain with it; forgetEndedOrders forgets every ended order at once, open ones stay', async () => {
    const { clock, venue } = harness({ ordersMax: 10, endedOrderRetentionMs: 60_000 })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'a1', price: d('49000') })), CALL_MS))
    okValue(await within(clock, venue.amend({ clientOrderId: 'a2', origClientOrderId: 'a1', account: 'acct', symbol: 'BTC-USD', qty: d('1'), price: d('49001') }), CALL_MS))
    okValue(await within(clock, venue.cancel({ clientOrderId: 'a3', origClientOrderId: 'a2', account: 'acct', symbol: 'BTC-USD' }), CALL_MS))
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'ioc', tif: 'IOC', price: d('50100') })), CALL_MS))
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'rest', price: d('49000') })), CALL_MS))
    expect(venue.inspect().orders.map((order) => order.clientOrderIds)).toEqual([['a1', 'a2'], ['ioc'], ['rest']])
    // Well within the retention: only the hook forgets them.
    expect(venue.forgetEndedOrders()).toBe(2)
    const inspection = venue.inspect()
    expect(inspection.ordersForgotten).toBe(2)
    expect(inspection.orders.map((order) => order.clientOrderId)).toEqual(['rest'])
    expect(inspection.trades).toEqual([])
    for (const id of ['a1', 'a2', 'ioc']) expect(okValue(await within(clock, venue.orderStatus(id), CALL_MS))).toBeNull()
    // Its ids are free again: a place under the chain's first id is a new order, not a duplicate.
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'a1', tif: 'IOC', price: d('50100') })), CALL_MS))
    expect(venue.inspect().orders.map((order) => [order.clientOrderId, order.status])).toEqual([['rest', 'open'], ['a1', 'filled']])
    expect(venue.forgetEndedOrders()).toBe(1)
    expect(venue.forgetEndedOrders()).toBe(0)
  })
})
