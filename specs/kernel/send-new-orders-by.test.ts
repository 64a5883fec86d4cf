/**
 * A policy's `newOrdersBy: []` (no kind of principal may place or amend orders) at the send, not only at intake. A
 * start records its config's policies (kernel.configured) before its executor sends what the stop left queued; before
 * the fix the I-100 gate never read newOrdersBy, so places and amends accepted before the policy stopped new orders
 * went to the venue after it. Now they are blocked as a lowered cap blocks them (send-policy-limits.test.ts), with
 * PRINCIPAL_KIND_NOT_ALLOWED. Only the empty list is read: an order does not record its placer's kind (its decision
 * record names the principal, the kernel's order does not), so a list naming some kinds stops nothing queued.
 * Cancels and flatten's closes never face it.
 */

import { describe, expect, test } from 'bun:test'
import type { Policy } from '../../src/domain/accounts.ts'
import type { EventOf } from '../../src/domain/events/index.ts'
import { ACCOUNT, config, Harness, market, ops, paperFacts, policy } from './fixtures.ts'

let configs = 0

/** A start with a changed config: the account's policy becomes `overrides`. */
function restartWith(h: Harness, overrides: Partial<Policy>): void {
  configs += 1
  h.run({ kind: 'configure', nowMs: h.nowMs, config: { ...config({ policies: [policy(overrides)] }), digest: `cfg-kinds-${configs}` } })
}

function sendWith(h: Harness, orderId: string, action: 'place' | 'amend' | 'cancel') {
  return h.run({ kind: 'send', nowMs: h.nowMs, orderId, action, facts: paperFacts, market: action === 'cancel' ? null : market('50000', { observedAtMs: h.nowMs }) })
}

function guardsCheck(decision: ReturnType<Harness['run']>) {
  const event = decision.events.find((item) => item.type === 'order.send_blocked') as EventOf<'order.send_blocked'> | undefined
  return event?.gate.checks.find((check) => check.check === 'guards_pass')
}

describe('newOrdersBy: [] at the send (I-100 guards_pass)', () => {
  test('a queued place is blocked, rejected and its reservation released', () => {
    const h = Harness.funded()
    const orderId = h.placedId({ qty: '0.1' })
    restartWith(h, { newOrdersBy: [] })
    const decision = sendWith(h, orderId, 'place')
    expect(h.eventTypes(decision)).toEqual(['order.send_blocked'])
    expect(guardsCheck(decision)).toMatchObject({ pass: false, detail: 'a guard refused the send: PRINCIPAL_KIND_NOT_ALLOWED' })
    expect(h.order(orderId)).toMatchObject({ status: 'Rejected', lastReason: 'GATE_BLOCKED' })
    expect(h.reserved('USD')).toBe(0n)
  })

  test('a waiting amend fails and the order stands; its cancel still goes', () => {
    const h = Harness.funded()
    const orderId = h.openOrder({ client_order_id: 'resting' })
    expect(h.amend(orderId, { qty: '0.2' }).reply.kind).toBe('amend_accepted')
    restartWith(h, { newOrdersBy: [] })
    const decision = sendWith(h, orderId, 'amend')
    expect(h.eventTypes(decision)).toEqual(['order.send_blocked', 'order.amend_failed'])
    expect(guardsCheck(decision)).toMatchObject({ pass: false, detail: 'a guard refused the send: PRINCIPAL_KIND_NOT_ALLOWED' })
    expect(h.order(orderId)).toMatchObject({ status: 'AckedOpen', amend: { stage: 'failed' } })
    h.cancel(orderId)
    expect(h.eventTypes(sendWith(h, orderId, 'cancel'))).toEqual(['order.cancel_send_requested'])
  })

  test('a list naming a kind stops nothing queued: the order does not record its placer kind', () => {
    const h = Harness.funded()
    const orderId = h.placedId({ qty: '0.1' })
    restartWith(h, { newOrdersBy: ['bot'] })
    expect(h.eventTypes(sendWith(h, orderId, 'place'))).toEqual(['order.send_requested'])
  })

  test("a flatten's close still goes", () => {
    const h = Harness.funded()
    restartWith(h, { newOrdersBy: [] })
    const flatten = h.run({ kind: 'flatten', nowMs: h.nowMs, principal: ops, accountId: ACCOUNT, flattenId: 'f1', markets: { 'sim:BTC-USD': market('50000') } })
    const close = flatten.events.find((event) => event.type === 'order.accepted') as EventOf<'order.accepted'> | undefined
    expect(h.eventTypes(sendWith(h, close?.orderId ?? '', 'place'))).toEqual(['order.send_requested'])
  })
})
