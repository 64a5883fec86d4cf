/**
 * The instrument's rules (guard 6, capability: order type, time in force, post-only, reduce-only, min and max quantity,
 * min notional; and the tick and lot it rounded the order to) at the send, not only at intake. A start records its
 * config's instruments (kernel.configured) before its executor sends what the stop left queued, so an order accepted
 * under the old rules reaches the I-100 gate under the new ones. Before the fix the gate read none of them, and such an
 * order went to the venue, which refuses it (src/venues/sim/place-check.ts). Now the place is blocked (Rejected,
 * GATE_BLOCKED, its reservation released) and an amend fails (the order stands), the check's detail naming the rule's
 * code — as send-policy-limits.test.ts has it for the policy's limits. Cancels and flatten's closes never face it.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import type { Instrument } from '../../src/domain/instruments.ts'
import { applyInPlace, initialState, stateDigest } from '../../src/kernel/index.ts'
import { ACCOUNT, config, d, Harness, market, paperFacts, policy } from './fixtures.ts'

let configs = 0
const MARKET_POLICY = policy({ marketOrderInstruments: ['sim:BTC-USD'] })

/** A start with a changed config: BTC-USD's rules become `change` (market orders enabled on it, as the base allows). */
function restartWith(h: Harness, change: Partial<Instrument>): void {
  configs += 1
  const base = config({ policies: [MARKET_POLICY] })
  const instruments = base.instruments.map((item) => (item.symbol === 'BTC-USD' ? { ...item, ...change } : item))
  h.run({ kind: 'configure', nowMs: h.nowMs, config: { ...base, instruments, digest: `cfg-rules-${configs}` } })
}

function funded(): Harness {
  return Harness.funded({ config: config({ policies: [MARKET_POLICY] }) })
}

function sendWith(h: Harness, orderId: string, action: 'place' | 'amend' | 'cancel') {
  return h.run({ kind: 'send', nowMs: h.nowMs, orderId, action, facts: paperFacts, market: action === 'cancel' ? null : market('50000', { observedAtMs: h.nowMs }) })
}

function guardsCheck(decision: ReturnType<Harness['run']>) {
  const event = decision.events.find((item) => item.type === 'order.send_blocked') as EventOf<'order.send_blocked'> | undefined
  return event?.gate.checks.find((check) => check.check === 'guards_pass')
}

/** A queued place the changed rules refuse: blocked with `code` in the detail, Rejected, its reservation released. */
function expectRefused(h: Harness, orderId: string, code: string): void {
  const decision = sendWith(h, orderId, 'place')
  expect(h.eventTypes(decision)).toEqual(['order.send_blocked'])
  expect(guardsCheck(decision)).toMatchObject({ pass: false, detail: `a guard refused the send: ${code}` })
  expect(h.order(orderId)).toMatchObject({ status: 'Rejected', lastReason: 'GATE_BLOCKED' })
  expect(h.reserved(h.order(orderId).reservation.asset)).toBe(0n)
}

describe('instrument rules at the send (I-100 guards_pass)', () => {
  test('a queued place above a maxQty lowered since its intake is refused QTY_ABOVE_MAX', () => {
    const h = funded()
    const orderId = h.placedId({ qty: '0.5' })
    restartWith(h, { maxQty: d('0.2') })
    expectRefused(h, orderId, 'QTY_ABOVE_MAX')
  })

  test('below a raised minQty, QTY_BELOW_MIN; below a raised minNotional, NOTIONAL_BELOW_MIN', () => {
    const h = funded()
    const small = h.placedId({ qty: '0.1', client_order_id: 'small' })
    restartWith(h, { minQty: d('0.5') })
    expectRefused(h, small, 'QTY_BELOW_MIN')
    const other = funded()
    const cheap = other.placedId({ qty: '0.1', client_order_id: 'cheap' })
    restartWith(other, { minNotional: d('6000') })
    expectRefused(other, cheap, 'NOTIONAL_BELOW_MIN')
  })

  test('a quantity off a raised lot size is refused QTY_OFF_LOT, a price off a raised tick size PRICE_OFF_TICK', () => {
    const h = funded()
    const lots = h.placedId({ qty: '0.1234', client_order_id: 'lots' })
    restartWith(h, { lotSize: d('0.01') })
    expectRefused(h, lots, 'QTY_OFF_LOT')
    const ticks = h.placedId({ qty: '0.1', price: '50000.5', client_order_id: 'ticks' })
    restartWith(h, { tickSize: d('1') })
    expectRefused(h, ticks, 'PRICE_OFF_TICK')
  })

  test('a protected market buy whose protection price is off a raised tick size is refused PRICE_OFF_TICK', () => {
    const h = funded()
    // Protected at the band's upper edge of 50 000 (52 500), rounded to the tick of 0.01.
    const orderId = h.placedId({ type: 'market', price: undefined, qty: '0.1' })
    expect(h.order(orderId).protectionPrice).toBe(d('52500'))
    restartWith(h, { tickSize: d('1000') })
    expectRefused(h, orderId, 'PRICE_OFF_TICK')
  })

  test('an order type, time in force, post-only or reduce-only the instrument no longer takes is refused as intake refuses it', () => {
    const h = funded()
    const marketOrder = h.placedId({ type: 'market', price: undefined, qty: '0.1', client_order_id: 'mkt' })
    restartWith(h, { orderTypes: ['limit'] })
    expectRefused(h, marketOrder, 'ORDER_TYPE_UNSUPPORTED')
    const ioc = h.placedId({ tif: 'IOC', client_order_id: 'ioc' })
    restartWith(h, { timeInForce: ['GTC'] })
    expectRefused(h, ioc, 'TIF_UNSUPPORTED')
    const postOnly = h.placedId({ post_only: true, client_order_id: 'post' })
    restartWith(h, { postOnly: false })
    expectRefused(h, postOnly, 'POST_ONLY_UNSUPPORTED')
    const reducing = h.placedId({ side: 'sell', reduce_only: true, client_order_id: 'reduce' })
    restartWith(h, { reduceOnly: false })
    expectRefused(h, reducing, 'REDUCE_ONLY_UNSUPPORTED')
  })

  test('an order the changed rules still take goes out', () => {
    const h = funded()
    const orderId = h.placedId({ qty: '0.2', price: '50000' })
    restartWith(h, { maxQty: d('0.2'), lotSize: d('0.1'), tickSize: d('10'), minNotional: d('10000') })
    expect(h.eventTypes(sendWith(h, orderId, 'place'))).toEqual(['order.send_requested'])
  })

  test('a waiting amend above a lowered maxQty fails and the order stands; a cancel still goes', () => {
    const h = funded()
    const orderId = h.openOrder({ client_order_id: 'resting' })
    expect(h.amend(orderId, { qty: '0.3' }).reply.kind).toBe('amend_accepted')
    restartWith(h, { maxQty: d('0.2') })
    const decision = sendWith(h, orderId, 'amend')
    expect(h.eventTypes(decision)).toEqual(['order.send_blocked', 'order.amend_failed'])
    expect(guardsCheck(decision)).toMatchObject({ pass: false, detail: 'a guard refused the send: QTY_ABOVE_MAX' })
    expect(h.order(orderId)).toMatchObject({ status: 'AckedOpen', qty: d('0.1'), amend: { stage: 'failed' } })
    h.cancel(orderId)
    expect(h.eventTypes(sendWith(h, orderId, 'cancel'))).toEqual(['order.cancel_send_requested'])
  })

  test("a flatten's close never faces them", () => {
    const h = funded()
    // 2 BTC held: the close sells them all, above the lowered maxQty.
    const flatten = h.run({ kind: 'flatten', nowMs: h.nowMs, principal: { id: 'olga', roles: ['ops'], accounts: [], liveAllowed: false }, accountId: ACCOUNT, flattenId: 'f1', markets: { 'sim:BTC-USD': market('50000') } })
    const close = flatten.events.find((event) => event.type === 'order.accepted') as EventOf<'order.accepted'> | undefined
    expect(close?.qty).toBe(d('2'))
    restartWith(h, { maxQty: d('0.2') })
    expect(h.eventTypes(sendWith(h, close?.orderId ?? '', 'place'))).toEqual(['order.send_requested'])
  })

  test('the refusal is in the log: replaying it reaches the same state', () => {
    const h = funded()
    const orderId = h.placedId({ qty: '0.5' })
    restartWith(h, { maxQty: d('0.2') })
    sendWith(h, orderId, 'place')
    const replayed = initialState()
    h.log.forEach((event, index) => applyInPlace(replayed, event, { lsn: index + 1 }))
    expect(replayed.orders.get(orderId)?.status).toBe('Rejected')
    expect(stateDigest(replayed)).toBe(stateDigest(h.state))
  })
})
