/**
 * A fill priced worse than the order's limit — a buy above it, a sell below it — happened at the venue, so it is booked
 * as reported; before, nothing else happened and nobody was told. Now the decision also raises a
 * FILL_PRICE_THROUGH_LIMIT alert, and the order's state is what the fill makes it (not Unknown: nothing is in doubt).
 * A plain market order has no limit, but is held to the worst price it was reserved at (FILL_PRICE_BEYOND_WORST:
 * specs/kernel/market-worst-price.test.ts); a protected one's limit is its protection price, the limit it was sent at
 * (src/kernel/venue-form.ts). A fill at the limit or better raises nothing.
 */

import { describe, expect, test } from 'bun:test'
import type { Decision } from '../../src/kernel/index.ts'
import { config, d, Harness, plainMarketConfig, policy, report } from './fixtures.ts'

function throughLimitAlerts(decision: Decision): unknown[] {
  return decision.events.filter((event) => event.type === 'alert.raised' && event.reason === 'FILL_PRICE_THROUGH_LIMIT')
}

function fillAt(harness: Harness, orderId: string, execId: string, price: string): Decision {
  const order = harness.order(orderId)
  const lastQty = d('0.01')
  return harness.report(report(order, { execId, kind: 'fill', lastQty, lastPrice: d(price), cumQty: order.cumQty + lastQty }))
}

describe('a fill priced through the limit', () => {
  test('a buy filled above its limit is booked as reported and raises FILL_PRICE_THROUGH_LIMIT', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ side: 'buy', price: '50000' })
    const decision = fillAt(harness, orderId, 'f1', '50000.01')
    expect(throughLimitAlerts(decision)).toEqual([
      expect.objectContaining({ orderId, detail: 'fill f1 of a buy at 50000.01, above its limit 50000' }),
    ])
    expect(harness.order(orderId).cumQty).toBe(d('0.01'))
    expect(harness.order(orderId).status).toBe('Partial')
    expect(harness.log.some((event) => event.type === 'order.fill' && event.lastPrice === d('50000.01'))).toBe(true)
  })

  test('a sell filled below its limit is booked as reported and raises FILL_PRICE_THROUGH_LIMIT', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ side: 'sell', price: '50000' })
    const decision = fillAt(harness, orderId, 's1', '49999.99')
    expect(throughLimitAlerts(decision)).toEqual([
      expect.objectContaining({ orderId, detail: 'fill s1 of a sell at 49999.99, below its limit 50000' }),
    ])
    expect(harness.order(orderId).cumQty).toBe(d('0.01'))
    expect(harness.order(orderId).status).toBe('Partial')
  })

  test('fills at the limit or better raise nothing, on either side', () => {
    const harness = Harness.funded()
    const buy = harness.openOrder({ side: 'buy', price: '50000', client_order_id: 'b' })
    // Above the buy: at its price it would cross the account's own buy (SELF_TRADE_PREVENTED).
    const sell = harness.openOrder({ side: 'sell', price: '50100', client_order_id: 's' })
    expect(throughLimitAlerts(fillAt(harness, buy, 'b1', '50000'))).toEqual([])
    expect(throughLimitAlerts(fillAt(harness, buy, 'b2', '49000'))).toEqual([])
    expect(throughLimitAlerts(fillAt(harness, sell, 's1', '50100'))).toEqual([])
    expect(throughLimitAlerts(fillAt(harness, sell, 's2', '51000'))).toEqual([])
  })

  test('a plain market order has no limit: no FILL_PRICE_THROUGH_LIMIT; a fill beyond its worst price raises FILL_PRICE_BEYOND_WORST', () => {
    const marketOn = () => Harness.funded({ config: plainMarketConfig({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
    // Each on an account of its own: open together, the two would cross (SELF_TRADE_PREVENTED).
    const harness = marketOn()
    const other = marketOn()
    const buy = harness.openOrder({ side: 'buy', type: 'market', price: undefined, client_order_id: 'mb' })
    const sell = other.openOrder({ side: 'sell', type: 'market', price: undefined, client_order_id: 'ms' })
    expect(harness.order(buy).price).toBeNull()
    expect(harness.order(buy).protectionPrice).toBeNull()
    // Reference 50 000, band 5 %: the buy was reserved at 52 500, the sell at no less than 47 500.
    const buyFill = fillAt(harness, buy, 'mb1', '60000')
    const sellFill = fillAt(other, sell, 'ms1', '40000')
    expect(throughLimitAlerts(buyFill)).toEqual([])
    expect(throughLimitAlerts(sellFill)).toEqual([])
    expect(buyFill.events.filter((event) => event.type === 'alert.raised')).toEqual([
      expect.objectContaining({ reason: 'FILL_PRICE_BEYOND_WORST', orderId: buy, detail: 'fill mb1 of a buy at 60000, above its worst price 52500' }),
    ])
    expect(sellFill.events.filter((event) => event.type === 'alert.raised')).toEqual([
      expect.objectContaining({ reason: 'FILL_PRICE_BEYOND_WORST', orderId: sell, detail: 'fill ms1 of a sell at 40000, below its worst price 47500' }),
    ])
    expect(harness.order(buy).cumQty).toBe(d('0.01'))
    expect(other.order(sell).cumQty).toBe(d('0.01'))
  })

  test("a protected market order is held to its protection price, the limit it was sent at (reference 50 000, band 5 %)", () => {
    const marketOn = () => Harness.funded({ config: config({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
    // Each on an account of its own: open together, the two would cross (SELF_TRADE_PREVENTED).
    const harness = marketOn()
    const other = marketOn()
    const buy = harness.openOrder({ side: 'buy', type: 'market', price: undefined, tif: 'IOC', qty: '0.02', client_order_id: 'pb' })
    const sell = other.openOrder({ side: 'sell', type: 'market', price: undefined, tif: 'IOC', qty: '0.02', client_order_id: 'ps' })
    expect(harness.order(buy).protectionPrice).toBe(d('52500'))
    expect(other.order(sell).protectionPrice).toBe(d('47500'))
    expect(throughLimitAlerts(fillAt(harness, buy, 'pb1', '52500'))).toEqual([])
    expect(throughLimitAlerts(fillAt(other, sell, 'ps1', '47500'))).toEqual([])
    expect(throughLimitAlerts(fillAt(harness, buy, 'pb2', '52500.01'))).toHaveLength(1)
    expect(throughLimitAlerts(fillAt(other, sell, 'ps2', '47499.99'))).toHaveLength(1)
  })

  test('a buy whose raised limit is sent in an amend may fill up to the new limit before the replace is reported', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ side: 'buy', price: '50000' })
    harness.amend(orderId, { price: '50500' })
    harness.send(orderId, 'amend')
    expect(harness.order(orderId).amend?.stage).toBe('sent')
    expect(throughLimitAlerts(fillAt(harness, orderId, 'a1', '50400'))).toEqual([])
    expect(throughLimitAlerts(fillAt(harness, orderId, 'a2', '50600'))).toHaveLength(1)
  })
})

/**
 * The limit a fill is held to is the one of the order version it was made under (the client id the venue states it
 * under). A fill made while the looser limit stood, reported after the amend tightening it was acknowledged, raised
 * FILL_PRICE_THROUGH_LIMIT against the new limit; a fill under the amended version must still be held to the new one.
 */
describe('a fill and the amends of its order', () => {
  function tightenedBuy(): { harness: Harness; orderId: string; originalId: string; amendedId: string } {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ side: 'buy', price: '50000' })
    const originalId = harness.order(orderId).venueClientOrderId
    harness.amend(orderId, { price: '49000' })
    harness.send(orderId, 'amend')
    harness.amendResult(orderId, { kind: 'ok', value: { accepted: true } })
    const order = harness.order(orderId)
    expect(order.price).toBe(d('49000'))
    expect(order.amend).toBeNull()
    const amendedId = order.clientIdChain[order.clientIdChain.length - 1] as string
    expect(amendedId).not.toBe(originalId)
    return { harness, orderId, originalId, amendedId }
  }

  function fillUnder(harness: Harness, orderId: string, clientOrderId: string, execId: string, price: string): Decision {
    const order = harness.order(orderId)
    const lastQty = d('0.01')
    return harness.report(report(order, { clientOrderId, execId, kind: 'fill', lastQty, lastPrice: d(price), cumQty: order.cumQty + lastQty }))
  }

  test('a fill made under the earlier, looser limit and reported after the tightening amend was acked raises nothing', () => {
    const { harness, orderId, originalId } = tightenedBuy()
    const decision = fillUnder(harness, orderId, originalId, 'late1', '49500')
    expect(throughLimitAlerts(decision)).toEqual([])
    expect(harness.order(orderId).cumQty).toBe(d('0.01'))
  })

  test('a fill under the amended version above its new limit is alerted against that limit', () => {
    const { harness, orderId, amendedId } = tightenedBuy()
    const decision = fillUnder(harness, orderId, amendedId, 'now1', '49500')
    expect(throughLimitAlerts(decision)).toEqual([expect.objectContaining({ orderId, detail: 'fill now1 of a buy at 49500, above its limit 49000' })])
  })

  test('a fill under an amend not yet applied is held to that amend limit', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ side: 'sell', price: '50000' })
    harness.amend(orderId, { price: '50500' })
    harness.send(orderId, 'amend')
    const amendId = harness.order(orderId).amend?.clientOrderId as string
    // The report under the amend's id proves the replace first (inbox.ts amendNews); the fill is then held to 50500.
    const decision = fillUnder(harness, orderId, amendId, 'a1', '50200')
    expect(throughLimitAlerts(decision)).toEqual([expect.objectContaining({ orderId, detail: 'fill a1 of a sell at 50200, below its limit 50500' })])
  })

  test('a late fill under the earlier version past every limit the order has had is alerted against the loosest of them', () => {
    // Held to no limit at all once its version was replaced, such a fill (above both 50000 and 49000 for a buy) was
    // booked with no alert. The order keeps the loosest limit of its versions (order.limit_loosest at the amend).
    const { harness, orderId, originalId } = tightenedBuy()
    expect(harness.order(orderId).limitLoosest).toBe(d('50000'))
    const decision = fillUnder(harness, orderId, originalId, 'late2', '50100')
    expect(throughLimitAlerts(decision)).toEqual([expect.objectContaining({ orderId, detail: 'fill late2 of a buy at 50100, above its limit 50000' })])
    expect(harness.order(orderId).cumQty).toBe(d('0.01'))
  })

  test('the loosest limit spans every version: a sell loosened, then tightened past where it started', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ side: 'sell', price: '50000' })
    const originalId = harness.order(orderId).venueClientOrderId
    for (const price of ['49500', '50500']) {
      harness.amend(orderId, { price })
      harness.send(orderId, 'amend')
      harness.amendResult(orderId, { kind: 'ok', value: { accepted: true } })
    }
    const order = harness.order(orderId)
    expect(order.price).toBe(d('50500'))
    expect(order.limitLoosest).toBe(d('49500'))
    const firstAmendId = order.clientIdChain[1] as string
    expect(throughLimitAlerts(fillUnder(harness, orderId, originalId, 'o1', '49600'))).toEqual([])
    expect(throughLimitAlerts(fillUnder(harness, orderId, firstAmendId, 'o2', '49500'))).toEqual([])
    expect(throughLimitAlerts(fillUnder(harness, orderId, originalId, 'o3', '49400'))).toEqual([
      expect.objectContaining({ orderId, detail: 'fill o3 of a sell at 49400, below its limit 49500' }),
    ])
  })

  test('an order amended with no loosest limit kept (a build before it) leaves earlier-version fills unchecked', () => {
    const { harness, orderId, originalId } = tightenedBuy()
    harness.order(orderId).limitLoosest = null
    expect(throughLimitAlerts(fillUnder(harness, orderId, originalId, 'old1', '60000'))).toEqual([])
  })
})
