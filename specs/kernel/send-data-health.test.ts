/**
 * §15 check 4 ("guards PASS (data/…)") at the send itself, not only at intake: an order accepted on a healthy
 * reference price may wait in its lane (a HALT, a throttling venue) while the price goes stale, jumps or moves away
 * from its limit. The I-100 gate then blocks the place (the order ends Rejected, GATE_BLOCKED, its reservation
 * released) or the amend (the order stands unchanged); a cancel never faces it.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import type { MarketSnapshot } from '../../src/domain/market.ts'
import { config, d, Harness, market, paperFacts, plainMarketConfig, policy, T0 } from './fixtures.ts'

function sendWith(h: Harness, orderId: string, action: 'place' | 'cancel' | 'amend', snapshot: MarketSnapshot | null | undefined) {
  return h.run({ kind: 'send', nowMs: h.nowMs, orderId, action, facts: paperFacts, ...(snapshot === undefined ? {} : { market: snapshot }) })
}

function guardsCheck(decision: ReturnType<Harness['run']>) {
  const event = decision.events.find((item) => item.type === 'order.send_blocked' || item.type.endsWith('send_requested')) as
    | EventOf<'order.send_blocked'>
    | EventOf<'order.send_requested'>
    | undefined
  return event?.gate.checks.find((check) => check.check === 'guards_pass')
}

describe('data health at the send (I-100 guards_pass)', () => {
  test('a place whose reference price went stale while it waited is blocked, rejected and its reservation released', () => {
    const h = Harness.funded()
    const orderId = h.placedId()
    expect(h.reserved('USD')).toBeGreaterThan(0n)
    h.nowMs = T0 + 60_000
    const decision = sendWith(h, orderId, 'place', market('50000'))
    expect(h.eventTypes(decision)).toEqual(['order.send_blocked'])
    expect(guardsCheck(decision)).toMatchObject({ pass: false, detail: 'a guard refused the send: DATA_STALE' })
    expect(h.order(orderId).status).toBe('Rejected')
    expect(h.reserved('USD')).toBe(0n)
  })

  test('a place whose limit the reference price has moved away from (beyond the band) is blocked', () => {
    const h = Harness.funded()
    const orderId = h.placedId()
    const decision = sendWith(h, orderId, 'place', market('60000'))
    expect(guardsCheck(decision)).toMatchObject({ pass: false, detail: 'a guard refused the send: PRICE_BAND' })
    expect(h.order(orderId).status).toBe('Rejected')
  })

  test('a plain market buy whose reservation the price has drifted past (no jump, fresh) is blocked; at its intake price it goes out', () => {
    const h = Harness.funded({ config: plainMarketConfig({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
    const drifted = h.placedId({ type: 'market', price: undefined, qty: '1', client_order_id: 'c-drift' })
    const held = h.order(drifted).reservation.total
    // Reserved at the band edge of 50 000 (52 500 and fees); 60 000 arrived in steps, each under the jump bound.
    const decision = sendWith(h, drifted, 'place', market('60000', { previousPrice: d('59990') }))
    expect(guardsCheck(decision)).toMatchObject({ pass: false, detail: 'a guard refused the send: INSUFFICIENT_FUNDS' })
    expect(h.order(drifted).status).toBe('Rejected')
    expect(h.reserved('USD')).toBe(0n)

    const steady = h.placedId({ type: 'market', price: undefined, qty: '1', client_order_id: 'c-steady' })
    expect(h.order(steady).reservation.total).toBe(held)
    expect(h.eventTypes(sendWith(h, steady, 'place', market('50000')))).toEqual(['order.send_requested'])
    // A market sell holds its quantity, whatever the price (on an account without the market buy in flight, which it
    // would cross: SELF_TRADE_PREVENTED).
    const s = Harness.funded({ config: config({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
    const sell = s.placedId({ type: 'market', price: undefined, qty: '1', side: 'sell', client_order_id: 'c-sell' })
    expect(s.eventTypes(sendWith(s, sell, 'place', market('40000', { previousPrice: d('40010') })))).toEqual(['order.send_requested'])
  })

  test('a protected market buy the price has drifted past is sent all the same: a limit at its protection price cannot spend past its reservation', () => {
    const h = Harness.funded({ config: config({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
    const drifted = h.placedId({ type: 'market', price: undefined, qty: '1', client_order_id: 'c-drift' })
    expect(h.order(drifted).protectionPrice).toBe(d('52500'))
    const decision = sendWith(h, drifted, 'place', market('60000', { previousPrice: d('59990') }))
    expect(h.eventTypes(decision)).toEqual(['order.send_requested'])
    expect(guardsCheck(decision)).toMatchObject({ pass: true })
    expect(h.order(drifted).reservation.remaining).toBe(h.order(drifted).reservation.total)
  })

  test('a jump and a missing reference price block the send too', () => {
    const h = Harness.funded()
    const jumped = h.placedId({ client_order_id: 'c-jump' })
    expect(guardsCheck(sendWith(h, jumped, 'place', market('50000', { previousPrice: d('40000') })))).toMatchObject({ detail: 'a guard refused the send: DATA_JUMP' })
    const missing = h.placedId({ client_order_id: 'c-missing' })
    expect(guardsCheck(sendWith(h, missing, 'place', null))).toMatchObject({ detail: 'a guard refused the send: DATA_MISSING' })
  })

  test('on a healthy reference price the place goes out, as before', () => {
    const h = Harness.funded()
    const orderId = h.placedId()
    const decision = sendWith(h, orderId, 'place', market('50000'))
    expect(h.eventTypes(decision)).toEqual(['order.send_requested'])
    expect(guardsCheck(decision)).toMatchObject({ pass: true, detail: 'every intake guard passed' })
  })

  test('a send command without a market (an older leader’s command record) is decided as before', () => {
    const h = Harness.funded()
    const orderId = h.placedId()
    h.nowMs = T0 + 60_000
    expect(h.eventTypes(sendWith(h, orderId, 'place', undefined))).toEqual(['order.send_requested'])
  })

  test('a cancel never faces it: it goes out on a stale or missing price', () => {
    const h = Harness.funded()
    const orderId = h.openOrder()
    h.cancel(orderId)
    h.nowMs = T0 + 60_000
    expect(h.eventTypes(sendWith(h, orderId, 'cancel', null))).toEqual(['order.cancel_send_requested'])
  })

  test('an amend to a price the band now refuses is blocked and the order stands unchanged', () => {
    const h = Harness.funded()
    const orderId = h.openOrder()
    expect(h.amend(orderId, { price: '51000' }).reply.kind).toBe('amend_accepted')
    const decision = sendWith(h, orderId, 'amend', market('45000'))
    expect(h.eventTypes(decision)).toEqual(['order.send_blocked', 'order.amend_failed'])
    expect(guardsCheck(decision)).toMatchObject({ pass: false, detail: 'a guard refused the send: PRICE_BAND' })
    expect(h.order(orderId)).toMatchObject({ status: 'AckedOpen', price: d('50000') })
  })

  test('an amend cutting quantity is not band-checked (as at its intake), only health-checked', () => {
    const h = Harness.funded()
    const orderId = h.openOrder()
    expect(h.amend(orderId, { qty: '0.05' }).reply.kind).toBe('amend_accepted')
    expect(h.eventTypes(sendWith(h, orderId, 'amend', market('45000')))).toEqual(['order.amend_send_requested'])
  })
})
