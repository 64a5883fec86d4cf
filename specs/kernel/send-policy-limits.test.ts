/**
 * The account policy's limits on the order itself (guard 2: market orders enabled on the instrument, maxOrderNotional)
 * at the send, not only at intake. A start records its config's policies (kernel.configured) before its executor
 * sends what the stop left queued, so an order accepted under the old policy reaches the I-100 gate under the new one.
 * Before the fix the gate read only the policy's validity, instrument list and live permission (check 3), so a queued
 * order past a lowered cap, or a market order on an instrument the policy no longer enables, went to the venue — while
 * a resend of the same order was refused (resend-guards.test.ts). Now the place is blocked (Rejected, GATE_BLOCKED,
 * its reservation released) and an amend fails (the order stands), the check's detail naming the guard's code.
 */

import { describe, expect, test } from 'bun:test'
import type { Policy } from '../../src/domain/accounts.ts'
import type { EventOf } from '../../src/domain/events/index.ts'
import { config, d, Harness, market, paperFacts, policy } from './fixtures.ts'

let configs = 0

/** A start with a changed config: the account's policy becomes `overrides`. */
function restartWith(h: Harness, overrides: Partial<Policy>): void {
  configs += 1
  h.run({ kind: 'configure', nowMs: h.nowMs, config: { ...config({ policies: [policy(overrides)] }), digest: `cfg-limits-${configs}` } })
}

function sendWith(h: Harness, orderId: string, action: 'place' | 'amend') {
  return h.run({ kind: 'send', nowMs: h.nowMs, orderId, action, facts: paperFacts, market: market('50000', { observedAtMs: h.nowMs }) })
}

function guardsCheck(decision: ReturnType<Harness['run']>) {
  const event = decision.events.find((item) => item.type === 'order.send_blocked') as EventOf<'order.send_blocked'> | undefined
  return event?.gate.checks.find((check) => check.check === 'guards_pass')
}

describe('policy limits at the send (I-100 guards_pass)', () => {
  test('a queued place above a cap lowered since its intake is blocked, rejected and its reservation released', () => {
    const h = Harness.funded()
    const orderId = h.placedId({ qty: '1', price: '50000' })
    restartWith(h, { maxOrderNotional: d('10000') })
    const decision = sendWith(h, orderId, 'place')
    expect(h.eventTypes(decision)).toEqual(['order.send_blocked'])
    expect(guardsCheck(decision)).toMatchObject({ pass: false, detail: 'a guard refused the send: ORDER_NOTIONAL_LIMIT' })
    expect(h.order(orderId).status).toBe('Rejected')
    expect(h.reserved('USD')).toBe(0n)
  })

  test('one within the lowered cap, at it exactly, still goes out', () => {
    const h = Harness.funded()
    const orderId = h.placedId({ qty: '0.2', price: '50000' })
    restartWith(h, { maxOrderNotional: d('10000') })
    expect(h.eventTypes(sendWith(h, orderId, 'place'))).toEqual(['order.send_requested'])
  })

  test('a queued market order on an instrument the policy no longer enables is blocked with MARKET_ORDERS_DISABLED', () => {
    const h = Harness.funded({ config: config({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
    const orderId = h.placedId({ type: 'market', price: undefined, qty: '0.1' })
    restartWith(h, { marketOrderInstruments: [] })
    const decision = sendWith(h, orderId, 'place')
    expect(guardsCheck(decision)).toMatchObject({ pass: false, detail: 'a guard refused the send: MARKET_ORDERS_DISABLED' })
    expect(h.order(orderId).status).toBe('Rejected')
  })

  test("a protected market buy is priced at its protection price: within the cap there, it goes out", () => {
    const h = Harness.funded({ config: config({ policies: [policy({ marketOrderInstruments: ['sim:BTC-USD'] })] }) })
    const orderId = h.placedId({ type: 'market', price: undefined, qty: '0.1' })
    // Protected at the band's upper edge of 50 000: 52 500, so 5 250 for 0.1.
    expect(h.order(orderId).protectionPrice).toBe(d('52500'))
    restartWith(h, { marketOrderInstruments: ['sim:BTC-USD'], maxOrderNotional: d('5250') })
    expect(h.eventTypes(sendWith(h, orderId, 'place'))).toEqual(['order.send_requested'])
  })

  test('a waiting amend above the lowered cap fails and the order stands; one within it goes out', () => {
    const h = Harness.funded()
    const raised = h.openOrder({ client_order_id: 'raised' })
    expect(h.amend(raised, { qty: '0.3' }).reply.kind).toBe('amend_accepted')
    restartWith(h, { maxOrderNotional: d('10000') })
    const decision = sendWith(h, raised, 'amend')
    expect(h.eventTypes(decision)).toEqual(['order.send_blocked', 'order.amend_failed'])
    expect(guardsCheck(decision)).toMatchObject({ pass: false, detail: 'a guard refused the send: ORDER_NOTIONAL_LIMIT' })
    expect(h.order(raised)).toMatchObject({ status: 'AckedOpen', qty: d('0.1'), amend: { stage: 'failed' } })

    const within = h.openOrder({ client_order_id: 'within', price: '49000' })
    restartWith(h, { maxOrderNotional: d('1000000') })
    expect(h.amend(within, { qty: '0.15' }).reply.kind).toBe('amend_accepted')
    restartWith(h, { maxOrderNotional: d('7350') })
    expect(h.eventTypes(sendWith(h, within, 'amend'))).toEqual(['order.amend_send_requested'])
  })
})
