/**
 * Market-order protection (spec 004 §8, anti-slippage): a market order is reserved, from its intake, at the band edge
 * of the reference price; before, it went to the venue as a plain market order, and nothing held the venue to that
 * worst case — a buy on a thin or gapping book filled above it and spent past its reservation, a sell filled far
 * below the market. Now its protection price is computed at intake from the same reference price (a buy: the band's
 * upper edge rounded down to the tick, never above what it reserves; a sell: the lower edge rounded up to the tick),
 * recorded on `order.accepted` (payload version 10), and the order goes out as a limit at it, IOC (FOK when FOK).
 * A resend goes out at the same price and reserves at it; an order accepted before (no member) is sent as it was, a
 * plain market order; an instrument that cannot take the limit leaves the order plain.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import type { Instrument } from '../../src/domain/instruments.ts'
import { applyInPlace, decide, reservationFor, stateDigest, venueFormOf } from '../../src/kernel/index.ts'
import { marketWorstPrice } from '../../src/kernel/intake/sent-order.ts'
import { admin, config, d, Harness, market, placeCommand, body, policy } from './fixtures.ts'

const MARKETS = [policy({ marketOrderInstruments: ['sim:BTC-USD', 'sim:ETH-USD', 'sim:AAPL'] })]

function protectedHarness(instruments?: (instrument: Instrument) => Instrument): Harness {
  const base = config({ policies: MARKETS })
  return Harness.funded({ config: instruments === undefined ? base : { ...base, instruments: base.instruments.map(instrument => instruments(instrument)) } })
}

function accepted(decision: ReturnType<Harness['run']>): EventOf<'order.accepted'> {
  const event = decision.events.find((item) => item.type === 'order.accepted')
  if (event?.type !== 'order.accepted') throw new Error(`expected an acceptance, got ${JSON.stringify(decision.reply)}`)
  return event
}

const marketBody = (overrides: Record<string, unknown> = {}) => ({ type: 'market', price: undefined, qty: '0.1', ...overrides })

describe('market-order protection', () => {
  test("a market buy's protection price is the band's upper edge rounded down to the tick: at most the price it reserves at", () => {
    const h = protectedHarness()
    // Reference 50 000.01, band 5 %: the upper edge is 52 500.0105, the reservation's worst price; the tick is 0.01.
    const event = accepted(h.place(marketBody({ client_order_id: 'b1' }), { market: market('50000.01') }))
    expect(event.protectionPrice).toBe(d('52500.01'))
    const order = h.order(event.orderId)
    expect(order.protectionPrice).toBe(d('52500.01'))
    const worstPrice = marketWorstPrice(d('50000.01'), h.state.instruments.get('sim:BTC-USD') as Instrument)
    expect(worstPrice).toBe(d('52500.0105'))
    expect(order.protectionPrice as bigint).toBeLessThanOrEqual(worstPrice)
    // Filled in full at its protection price, with the taker fee, it spends no more than it holds.
    const spend = reservationFor({ side: 'buy', qty: order.qty, worstPrice: order.protectionPrice as bigint, takerFeeBps: 10, instrument: h.state.instruments.get('sim:BTC-USD') as Instrument })
    expect(spend.amount).toBeLessThanOrEqual(order.reservation.total)
    expect(venueFormOf(order)).toEqual({ type: 'limit', price: d('52500.01'), tif: 'IOC' })
  })

  test("a market sell's is the band's lower edge, reference × (1 − band), rounded up to the tick: the lowest price it sells at", () => {
    const h = protectedHarness()
    const event = accepted(h.place(marketBody({ side: 'sell', client_order_id: 's1' }), { market: market('50000.01') }))
    // 50 000.01 × 0.95 = 47 500.0095, up to the tick.
    expect(event.protectionPrice).toBe(d('47500.01'))
    expect(venueFormOf(h.order(event.orderId))).toEqual({ type: 'limit', price: d('47500.01'), tif: 'IOC' })
  })

  test('the order goes out as a limit at it: IOC for GTC, DAY and IOC, FOK for FOK; a limit order as it is', () => {
    const h = protectedHarness()
    for (const tif of ['GTC', 'DAY', 'IOC', 'FOK'] as const) {
      const orderId = h.placedId(marketBody({ tif, client_order_id: `t-${tif}` }))
      expect(venueFormOf(h.order(orderId))).toEqual({ type: 'limit', price: d('52500'), tif: tif === 'FOK' ? 'FOK' : 'IOC' })
    }
    const limit = h.placedId({ client_order_id: 'lim', tif: 'GTC' })
    expect(h.order(limit).protectionPrice).toBeNull()
    expect(venueFormOf(h.order(limit))).toEqual({ type: 'limit', price: d('50000'), tif: 'GTC' })
  })

  test('an instrument that cannot take the limit leaves the order a plain market order: no limit orders, or not the time in force it would go with', () => {
    const noLimits = protectedHarness((instrument) => ({ ...instrument, orderTypes: ['market'] }))
    const plain = accepted(noLimits.place(marketBody({ tif: 'IOC', client_order_id: 'p1' })))
    expect('protectionPrice' in plain).toBe(false)
    expect(venueFormOf(noLimits.order(plain.orderId))).toEqual({ type: 'market', tif: 'IOC' })

    const noIoc = protectedHarness((instrument) => ({ ...instrument, timeInForce: ['GTC', 'FOK'] }))
    const gtc = accepted(noIoc.place(marketBody({ tif: 'GTC', client_order_id: 'p2' })))
    expect(venueFormOf(noIoc.order(gtc.orderId))).toEqual({ type: 'market', tif: 'GTC' })
    const fok = accepted(noIoc.place(marketBody({ tif: 'FOK', client_order_id: 'p3' })))
    expect(venueFormOf(noIoc.order(fok.orderId))).toEqual({ type: 'limit', price: d('52500'), tif: 'FOK' })
  })

  test('a band of 100 % or more has no lower edge: a sell is protected at one tick', () => {
    const h = protectedHarness((instrument) => ({ ...instrument, priceBandBps: 10_000 }))
    expect(accepted(h.place(marketBody({ side: 'sell', client_order_id: 'w1' }))).protectionPrice).toBe(d('0.01'))
  })

  test('an order from a log written before protection (order.accepted without the member) is sent as it was: a plain market order', () => {
    const h = protectedHarness()
    const decision = decide(h.state, placeCommand({ body: body(marketBody({ client_order_id: 'old' })) }))
    const { protectionPrice, ...older } = accepted(decision)
    expect(protectionPrice).toBe(d('52500'))
    applyInPlace(h.state, older, { lsn: h.state.lastLsn + 1 })
    const order = h.order(older.orderId)
    expect(order.protectionPrice).toBeNull()
    expect(venueFormOf(order)).toEqual({ type: 'market', tif: 'GTC' })
    // Its reservation is what that build took, at the band edge; the state is the same whatever the tif was sent as.
    expect(order.reservation.total).toBe(older.reservationAmount)
  })

  test('a resend goes out at the same protection price and is reserved at it, whatever the price now', () => {
    const h = protectedHarness()
    const orderId = h.placedId(marketBody({ client_order_id: 'r1' }))
    h.send(orderId)
    h.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
    h.nowMs += 5_000
    h.run({ kind: 'reconcile_result', nowMs: h.nowMs, orderId, venueOrder: null, trades: [] })
    expect(h.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true })
    // The price moved (49 000, within the jump bound of the previous 48 990): the band edge now is 51 450.
    const resend = h.run({ kind: 'resend', nowMs: h.nowMs, principal: admin, orderId, market: market('49000', { observedAtMs: h.nowMs, previousPrice: d('48990') }) })
    expect(resend.reply.kind).toBe('done')
    const order = h.order(orderId)
    expect(order.protectionPrice).toBe(d('52500'))
    expect(venueFormOf(order)).toEqual({ type: 'limit', price: d('52500'), tif: 'IOC' })
    const instrument = h.state.instruments.get('sim:BTC-USD') as Instrument
    const atProtection = reservationFor({ side: 'buy', qty: order.qty, worstPrice: d('52500'), takerFeeBps: 10, instrument })
    const requested = resend.events.find((event) => event.type === 'order.resend_requested')
    expect(requested?.type === 'order.resend_requested' && requested.reservationAmount).toBe(atProtection.amount)
    expect(order.reservation.total).toBe(atProtection.amount)
    expect(h.eventTypes(h.send(orderId))).toEqual(['order.send_requested'])
  })

  test('replaying the log gives the same state, protection prices included', () => {
    const h = protectedHarness()
    // The buy is canceled (never sent: on the spot) before the sell, which an open buy would cross (SELF_TRADE_PREVENTED).
    h.cancel(h.placedId(marketBody({ client_order_id: 'x1' })))
    h.placedId(marketBody({ side: 'sell', client_order_id: 'x2' }))
    const again = new Harness()
    for (const [index, event] of h.log.entries()) applyInPlace(again.state, event, { lsn: index + 1 })
    expect(stateDigest(again.state)).toBe(stateDigest(h.state))
    expect([...again.state.orders.values()].map((order) => order.protectionPrice)).toEqual([d('52500'), d('47500')])
  })
})
