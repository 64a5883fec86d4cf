import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import { harness, limit, okValue, within } from './fixture.ts'

// Calls take ≤ 5 ms each way; 20 simulated ms settles one. Price steps never move the price (priceStepTicksMax 0).
const CALL_MS = 20

describe('sim venue: trades of forgotten orders are dropped even behind an old trade of an open order', () => {
  test('a partly filled order resting for hours does not keep every later trade alive', async () => {
    const { clock, venue } = harness({ ordersMax: 10, endedOrderRetentionMs: 0, partialFillProbability: 1 })
    // Takes part of its quantity (liquidity is always short), then rests out of reach: its trade is the oldest held.
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'rest', qty: d('1') })), CALL_MS))
    venue.setReferencePrice('BTC-USD', d('51000'))
    expect(venue.inspect().trades.map((trade) => trade.clientOrderId)).toEqual(['rest'])
    for (let index = 0; index < 500; index++) {
      okValue(await within(clock, venue.place(limit({ clientOrderId: `ioc${index}`, tif: 'IOC', price: d('51000'), qty: d('0.002') })), CALL_MS))
    }
    const inspection = venue.inspect()
    expect(inspection.orders.length).toBeLessThanOrEqual(10)
    expect(inspection.ordersForgotten).toBe(491)
    // What the venue holds is at most its ten orders' trades (one each here, the IOCs' remainders expiring), plus the
    // forgotten ones not yet swept, which stay within a bound of the same order: never the 500 made meanwhile.
    expect(inspection.trades.length).toBeLessThanOrEqual(2 * 10 + 10)
    expect(inspection.trades[0]?.clientOrderId).toBe('rest')
    const held = new Set(inspection.orders.map((order) => order.venueOrderId))
    const heldTrades = inspection.trades.filter((trade) => held.has(trade.venueOrderId))
    expect(heldTrades.map((trade) => trade.clientOrderId)).toEqual(inspection.orders.map((order) => order.clientOrderId))
    expect(okValue(await within(clock, venue.trades({ clientOrderId: 'rest' }), CALL_MS))).toHaveLength(1)
  })
})
