/**
 * A plain market order (one its instrument cannot protect with a limit: src/kernel/intake/sent-order.ts
 * marketProtectionPrice) has no limit at the venue, but the gateway reserved and checked it at a worst price: a buy at
 * the band's upper edge of the reference price (its cash held for that), a sell at the lower edge. A fill beyond it
 * was booked with no one told, and a buy's could take the account's available cash below zero. Now the order holds
 * that worst price (Order.worstPrice, from `order.accepted`, and from `order.resend_requested`, which reserves again at
 * the price of its time), and a fill beyond it raises FILL_PRICE_BEYOND_WORST, once per fill; it is still booked as
 * reported. Replaying the log, the state and the decision are the same.
 */

import { describe, expect, test } from 'bun:test'
import type { Decision } from '../../src/kernel/index.ts'
import { decide, replay, stateDigest } from '../../src/kernel/index.ts'
import { admin, config, d, failedAbsentOrder, Harness, market, plainMarketConfig, policy, report } from './fixtures.ts'

function beyondWorstAlerts(decision: Decision): unknown[] {
  return decision.events.filter((event) => event.type === 'alert.raised' && event.reason === 'FILL_PRICE_BEYOND_WORST')
}

function fillReport(harness: Harness, orderId: string, execId: string, price: string) {
  const order = harness.order(orderId)
  const lastQty = d('0.01')
  return report(order, { execId, kind: 'fill', lastQty, lastPrice: d(price), cumQty: order.cumQty + lastQty })
}

function fillAt(harness: Harness, orderId: string, execId: string, price: string): Decision {
  return harness.report(fillReport(harness, orderId, execId, price))
}

/** A funded account whose policy takes market orders on sim:BTC-USD, which cannot be sent as an IOC limit. */
function plainMarketOn(): Harness {
  return Harness.funded({ config: plainMarketConfig({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
}

/** A plain market order opened at reference 50 000 (band 5 %): a buy's worst price is 52 500, a sell's 47 500. */
function plainMarket(side: 'buy' | 'sell'): { harness: Harness; orderId: string } {
  const harness = plainMarketOn()
  const orderId = harness.openOrder({ side, type: 'market', price: undefined, qty: '0.05', client_order_id: `m-${side}` })
  expect(harness.order(orderId).protectionPrice).toBeNull()
  return { harness, orderId }
}

describe('a plain market order filled beyond its worst price', () => {
  test('a buy records the worst price it was reserved at; fills at it or below raise nothing, each fill above it one alert', () => {
    const { harness, orderId } = plainMarket('buy')
    expect(harness.order(orderId).worstPrice).toBe(d('52500'))
    expect(harness.log.find((event) => event.type === 'order.accepted')).toEqual(expect.objectContaining({ worstPrice: d('52500') }))
    expect(beyondWorstAlerts(fillAt(harness, orderId, 'b1', '52500'))).toEqual([])
    expect(beyondWorstAlerts(fillAt(harness, orderId, 'b2', '49000'))).toEqual([])
    const first = fillAt(harness, orderId, 'b3', '52500.01')
    expect(beyondWorstAlerts(first)).toEqual([expect.objectContaining({ orderId, detail: 'fill b3 of a buy at 52500.01, above its worst price 52500' })])
    expect(first.events.filter((event) => event.type === 'alert.raised')).toHaveLength(1)
    expect(beyondWorstAlerts(fillAt(harness, orderId, 'b4', '60000'))).toEqual([expect.objectContaining({ orderId, detail: 'fill b4 of a buy at 60000, above its worst price 52500' })])
    // Booked as reported: the fills happened.
    expect(harness.order(orderId).cumQty).toBe(d('0.04'))
    expect(harness.order(orderId).status).toBe('Partial')
    expect(harness.log.some((event) => event.type === 'order.fill' && event.execId === 'b4' && event.lastPrice === d('60000'))).toBe(true)
  })

  test('a sell is held to the band floor: fills at it or above raise nothing, each fill below it one alert', () => {
    const { harness, orderId } = plainMarket('sell')
    expect(harness.order(orderId).worstPrice).toBe(d('47500'))
    expect(beyondWorstAlerts(fillAt(harness, orderId, 's1', '47500'))).toEqual([])
    expect(beyondWorstAlerts(fillAt(harness, orderId, 's2', '60000'))).toEqual([])
    expect(beyondWorstAlerts(fillAt(harness, orderId, 's3', '47499.99'))).toEqual([expect.objectContaining({ orderId, detail: 'fill s3 of a sell at 47499.99, below its worst price 47500' })])
    expect(beyondWorstAlerts(fillAt(harness, orderId, 's4', '40000'))).toEqual([expect.objectContaining({ orderId, detail: 'fill s4 of a sell at 40000, below its worst price 47500' })])
    expect(harness.order(orderId).cumQty).toBe(d('0.04'))
  })

  test('a limit order and a protected market order record no worst price', () => {
    const harness = Harness.funded()
    expect(harness.order(harness.openOrder({ side: 'buy', price: '50000' })).worstPrice).toBeNull()
    const protectedOn = Harness.funded({ config: config({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
    const orderId = protectedOn.openOrder({ side: 'buy', type: 'market', price: undefined, tif: 'IOC', client_order_id: 'pb' })
    expect(protectedOn.order(orderId).protectionPrice).toBe(d('52500'))
    expect(protectedOn.order(orderId).worstPrice).toBeNull()
  })

  test('a resend reserves again at the reference price of its time: the fills are held to that worst price', () => {
    const harness = plainMarketOn()
    const orderId = failedAbsentOrder(harness, { side: 'buy', type: 'market', price: undefined, qty: '0.05', client_order_id: 'rb' })
    expect(harness.order(orderId).worstPrice).toBe(d('52500'))
    const resend = harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: admin, orderId, market: market('51000', { observedAtMs: harness.nowMs }) })
    expect(resend.reply.kind).toBe('done')
    // 51 000 × 1.05
    expect(harness.order(orderId).worstPrice).toBe(d('53550'))
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: 'v-rb' } })
    expect(beyondWorstAlerts(fillAt(harness, orderId, 'r1', '53000'))).toEqual([])
    expect(beyondWorstAlerts(fillAt(harness, orderId, 'r2', '53550.01'))).toHaveLength(1)
  })

  test('replaying the log gives the same state, and the same fill decided on it raises the same alert', () => {
    for (const side of ['buy', 'sell'] as const) {
      const { harness, orderId } = plainMarket(side)
      fillAt(harness, orderId, 'x1', side === 'buy' ? '53000' : '47000')
      const replayed = replay(harness.log)
      expect(stateDigest(replayed)).toBe(stateDigest(harness.state))
      expect(replayed.orders.get(orderId)?.worstPrice).toBe(harness.order(orderId).worstPrice)
      const command = { kind: 'venue_report' as const, nowMs: harness.nowMs, report: fillReport(harness, orderId, 'x2', side === 'buy' ? '54000' : '46000') }
      const decided = decide(harness.state, command)
      expect(beyondWorstAlerts(decided)).toHaveLength(1)
      expect(decide(replayed, command)).toEqual(decided)
    }
  })
})
