/**
 * A resend faces the instrument's rules the send reads again (send.ts instrumentRuleRefusing, e14f9c63: order type,
 * time in force, post-only, reduce-only, min and max quantity, min notional, and the tick and lot the order was rounded
 * to). A start records its config's instruments before it resends, so an order accepted under the old rules is resent
 * under the new ones. Before the fix the resend took it (order.resend_requested, reserved again) and its send was then
 * blocked: the order, sent before, went Unknown holding its worst case and was read back, Failed again, and resent
 * again at the next start. Now the resend is refused up front with the send's code, recorded, nothing reserved, the
 * order left Failed and resendable once the rules take it again. Flatten's closes face none of it, at the send or here.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import type { Instrument } from '../../src/domain/instruments.ts'
import type { ReasonCode } from '../../src/domain/reasons.ts'
import { ACCOUNT, config, d, failedAbsentOrder, Harness, market, ops, paperFacts } from './fixtures.ts'

let configs = 0

/** A start with a changed config: BTC-USD's rules become `change` (nothing changed for an empty one). */
function restartWith(harness: Harness, change: Partial<Instrument>): void {
  configs += 1
  const base = config()
  const instruments = base.instruments.map((item) => (item.symbol === 'BTC-USD' ? { ...item, ...change } : item))
  harness.run({ kind: 'configure', nowMs: harness.nowMs, config: { ...base, instruments, digest: `cfg-resend-rules-${configs}` } })
}

/** An order (`overrides` on the fixture's 0.1 BTC buy at 50000) sent, answered unknown, proven not at the venue: Failed. */
function failedOrder(harness: Harness, overrides: Record<string, unknown> = {}): string {
  const orderId = failedAbsentOrder(harness, overrides)
  expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true })
  return orderId
}

function resend(harness: Harness, orderId: string) {
  return harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: ops, orderId, market: market('50000', { observedAtMs: harness.nowMs }) })
}

/** Refused with `reason`, recorded with the same detail; the order stays Failed and nothing is reserved. Returns the detail. */
function expectRefused(harness: Harness, orderId: string, reason: ReasonCode): string {
  const decision = resend(harness, orderId)
  expect(decision.reply).toMatchObject({ kind: 'refused', reason })
  const detail = decision.reply.kind === 'refused' ? decision.reply.detail : ''
  expect(decision.events).toEqual([{ type: 'order.resend_refused', atMs: harness.nowMs, orderId, principalId: ops.id, reason, detail, configDigest: harness.state.config?.digest as string }])
  expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true, reservation: { remaining: 0n } })
  expect(harness.reserved('USD')).toBe(0n)
  return detail
}

describe('instrument rules at a resend', () => {
  test('a maxQty lowered since intake refuses the resend QTY_ABOVE_MAX, the detail naming the rules it read', () => {
    const harness = Harness.funded()
    const orderId = failedOrder(harness, { qty: '0.5' })
    restartWith(harness, { maxQty: d('0.2') })
    const detail = expectRefused(harness, orderId, 'QTY_ABOVE_MAX')
    expect(detail).toContain('instrument=sim:BTC-USD')
    expect(detail).toContain('maxQty=0.2')
  })

  test('a raised minQty or minNotional refuses it QTY_BELOW_MIN, NOTIONAL_BELOW_MIN', () => {
    const harness = Harness.funded()
    const orderId = failedOrder(harness)
    restartWith(harness, { minQty: d('0.5') })
    expectRefused(harness, orderId, 'QTY_BELOW_MIN')
    restartWith(harness, { minNotional: d('6000') })
    expectRefused(harness, orderId, 'NOTIONAL_BELOW_MIN')
  })

  test('an order type or time in force no longer taken refuses it ORDER_TYPE_UNSUPPORTED, TIF_UNSUPPORTED', () => {
    const harness = Harness.funded()
    const orderId = failedOrder(harness)
    restartWith(harness, { orderTypes: ['market'] })
    expectRefused(harness, orderId, 'ORDER_TYPE_UNSUPPORTED')
    restartWith(harness, { timeInForce: ['IOC'] })
    expectRefused(harness, orderId, 'TIF_UNSUPPORTED')
  })

  test('a price off a raised tick is refused PRICE_OFF_TICK, a quantity off a raised lot QTY_OFF_LOT', () => {
    // The order goes out as recorded, never rounded again (resend-guards.test.ts): one the new tick or lot would move,
    // the send blocks, so the resend does not reserve it.
    const harness = Harness.funded()
    const ticks = failedOrder(harness, { price: '50000.05', client_order_id: 'ticks' })
    restartWith(harness, { tickSize: d('1') })
    expectRefused(harness, ticks, 'PRICE_OFF_TICK')
    const other = Harness.funded()
    const lots = failedOrder(other, { qty: '0.1234', client_order_id: 'lots' })
    restartWith(other, { lotSize: d('0.01') })
    expectRefused(other, lots, 'QTY_OFF_LOT')
  })

  test('the refusal leaves the order resendable: once the rules take it again, it is resent and sent', () => {
    const harness = Harness.funded()
    const orderId = failedOrder(harness, { qty: '0.5' })
    restartWith(harness, { maxQty: d('0.2') })
    expectRefused(harness, orderId, 'QTY_ABOVE_MAX')
    restartWith(harness, {})
    expect(harness.eventTypes(resend(harness, orderId))).toEqual(['order.resend_requested'])
    expect(harness.order(orderId).status).toBe('Enqueued')
    harness.nowMs += 1
    const sent = harness.run({ kind: 'send', nowMs: harness.nowMs, orderId, action: 'place', facts: paperFacts, market: market('50000', { observedAtMs: harness.nowMs }) })
    expect(harness.eventTypes(sent)).toEqual(['order.send_requested'])
  })

  test("a flatten's close is resent past them, as its send takes it past them", () => {
    const harness = Harness.funded()
    // 2 BTC held: the close sells them all, above the lowered maxQty.
    const flatten = harness.run({ kind: 'flatten', nowMs: harness.nowMs, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: { 'sim:BTC-USD': market('50000', { observedAtMs: harness.nowMs }) } })
    const close = flatten.events.find((event): event is EventOf<'order.accepted'> => event.type === 'order.accepted' && event.baseAsset === 'BTC')
    const orderId = close?.orderId ?? ''
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
    harness.nowMs += 5_000
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: null, trades: [] })
    expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true, qty: d('2') })
    restartWith(harness, { maxQty: d('0.2') })
    expect(harness.eventTypes(resend(harness, orderId))).toEqual(['order.resend_requested'])
  })

  test('rules unchanged, a resend goes through as before', () => {
    const harness = Harness.funded()
    const orderId = failedOrder(harness)
    restartWith(harness, {})
    expect(harness.eventTypes(resend(harness, orderId))).toEqual(['order.resend_requested'])
  })
})
