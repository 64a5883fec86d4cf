/**
 * A fill priced worse than the order's limit — a buy above it, a sell below it — happened at the venue, so it is booked
 * as reported; before, nothing else happened and nobody was told. Now the decision also raises a
 * FILL_PRICE_THROUGH_LIMIT alert, and the order's state is what the fill makes it (not Unknown: nothing is in doubt).
 * A market order has no limit; a fill at the limit or better raises nothing.
 */

import { describe, expect, test } from 'bun:test'
import type { Decision } from '../../src/kernel/index.ts'
import { config, d, Harness, policy, report } from './fixtures.ts'

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
    const sell = harness.openOrder({ side: 'sell', price: '50000', client_order_id: 's' })
    expect(throughLimitAlerts(fillAt(harness, buy, 'b1', '50000'))).toEqual([])
    expect(throughLimitAlerts(fillAt(harness, buy, 'b2', '49000'))).toEqual([])
    expect(throughLimitAlerts(fillAt(harness, sell, 's1', '50000'))).toEqual([])
    expect(throughLimitAlerts(fillAt(harness, sell, 's2', '51000'))).toEqual([])
  })

  test('a market order has no limit: no alert at any price', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
    const buy = harness.openOrder({ side: 'buy', type: 'market', price: undefined, tif: 'IOC', client_order_id: 'mb' })
    const sell = harness.openOrder({ side: 'sell', type: 'market', price: undefined, tif: 'IOC', client_order_id: 'ms' })
    expect(harness.order(buy).price).toBeNull()
    expect(throughLimitAlerts(fillAt(harness, buy, 'mb1', '60000'))).toEqual([])
    expect(throughLimitAlerts(fillAt(harness, sell, 'ms1', '40000'))).toEqual([])
    expect(harness.order(buy).cumQty).toBe(d('0.01'))
    expect(harness.order(sell).cumQty).toBe(d('0.01'))
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
