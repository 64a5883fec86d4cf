/**
 * A resend (of an order reconciliation proved the venue never received: Failed, not at venue) is a new send of the
 * order, possibly long after it was accepted, so it faces the guards whose facts may have changed since: the trading
 * switch, the account's policy (validity, instrument, max notional, open orders), data health and the price band
 * at the current reference price, and the reservation. Before the fix it checked only the reservation, so an order
 * whose price the market had left behind, or whose policy had expired or shrunk, went back to the venue as it was.
 * A refused resend changes nothing (the order stays Failed and holds nothing) and is recorded: one
 * `order.resend_refused` with the reason code, who asked and what the check looked at. Before that fix it wrote
 * nothing, so a start's refused resend (whose reply no one reads) left no trace in the order's events or explanation.
 * A request naming no order, or by a principal who may not act for the account, still writes nothing.
 *
 * It does not double-reserve, and never did: Failed is terminal, so the order's reservation was released in full when
 * it failed, and the resend takes it once again (pinned here too).
 */

import { describe, expect, test } from 'bun:test'
import type { MarketSnapshot } from '../../src/domain/market.ts'
import type { ReasonCode } from '../../src/domain/reasons.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { ACCOUNT, config, d, failedAbsentOrder, Harness, market, ops, policy, T0, trader } from './fixtures.ts'
import { unknownOrder } from './venue-fixtures.ts'

/** An order accepted, sent, timed out and proven not at the venue: Failed, resendable, holding nothing. */
function failedOrder(harness: Harness): string {
  const orderId = unknownOrder(harness)
  harness.nowMs += 5_000
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: null, trades: [] })
  expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true })
  return orderId
}

function resend(harness: Harness, orderId: string, snapshot: MarketSnapshot | null = market('50000', { observedAtMs: harness.nowMs })) {
  return harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: ops, orderId, market: snapshot })
}

let configs = 0

function reconfigure(harness: Harness, overrides: Parameters<typeof policy>[0]) {
  configs += 1
  harness.run({ kind: 'configure', nowMs: harness.nowMs, config: { ...config({ policies: [policy(overrides)] }), digest: `cfg-resend-${configs}` } })
}

/**
 * Refused with `reason`, and recorded: one order.resend_refused with the reply's reason and detail. The order stays
 * Failed and nothing more is reserved. Returns the detail.
 */
function expectRefused(harness: Harness, orderId: string, decision: ReturnType<typeof resend>, reason: ReasonCode): string {
  expect(decision.reply).toMatchObject({ kind: 'refused', reason })
  const detail = decision.reply.kind === 'refused' ? decision.reply.detail : ''
  expect(decision.events).toEqual([{ type: 'order.resend_refused', atMs: harness.nowMs, orderId, principalId: ops.id, reason, detail, configDigest: harness.state.config?.digest as string }])
  expect(harness.order(orderId).status).toBe('Failed')
  expect(harness.order(orderId).reservation.remaining).toBe(0n)
  return detail
}

describe('resend guards', () => {
  test('a resend within the guards goes back to Enqueued holding the reservation once, not twice', () => {
    const harness = Harness.funded()
    const orderId = failedOrder(harness)
    expect(harness.reserved('USD')).toBe(0n)
    expect(resend(harness, orderId).events.map((event) => event.type)).toEqual(['order.resend_requested'])
    expect(harness.order(orderId).status).toBe('Enqueued')
    expect(harness.reserved('USD')).toBe(d('5005'))
  })

  test('a resend whose price the market has left outside the band is refused with PRICE_BAND', () => {
    const harness = Harness.funded()
    const orderId = failedOrder(harness)
    expectRefused(harness, orderId, resend(harness, orderId, market('40000', { observedAtMs: harness.nowMs })), 'PRICE_BAND')
  })

  test('a resend with no reference price, or a stale one, is refused like a new order', () => {
    const harness = Harness.funded()
    const orderId = failedOrder(harness)
    expect(expectRefused(harness, orderId, resend(harness, orderId, null), 'DATA_MISSING')).toContain('referencePrice=none')
    const stale = expectRefused(harness, orderId, resend(harness, orderId, market('50000', { observedAtMs: T0 - 3_600_000 })), 'DATA_STALE')
    // What the check looked at is in the record: the age against the bound.
    expect(stale).toContain(`ageMs=${harness.nowMs - (T0 - 3_600_000)}`)
    expect(stale).toContain('referenceStaleMs=')
  })

  test('a resend after the policy expired, or its max notional shrank below the order, is refused', () => {
    const harness = Harness.funded()
    const orderId = failedOrder(harness)
    reconfigure(harness, { validUntilMs: harness.nowMs - 1 })
    expectRefused(harness, orderId, resend(harness, orderId), 'POLICY_EXPIRED')
    reconfigure(harness, { maxOrderNotional: d('4000') })
    expectRefused(harness, orderId, resend(harness, orderId), 'ORDER_NOTIONAL_LIMIT')
  })

  test('a resend is refused while the account is at its open-order limit', () => {
    const harness = Harness.funded()
    const orderId = failedOrder(harness)
    reconfigure(harness, { maxOpenOrders: 1 })
    harness.place({ client_order_id: 'other' })
    expectRefused(harness, orderId, resend(harness, orderId), 'OPEN_ORDERS_LIMIT')
  })

  test('a resend is refused while the trading switch holds new orders', () => {
    const harness = Harness.funded()
    const orderId = failedOrder(harness)
    harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'HALT', note: 'test' })
    expectRefused(harness, orderId, resend(harness, orderId), 'KILL_SWITCH_HALT')
  })

  test('a resend is sent as recorded, never rounded again: a price off a tick changed since is refused PRICE_OFF_TICK', () => {
    // The order is sent as recorded (rounded at intake, to the tick of the time). Rounded again to a coarser tick, a
    // buy's price went down: the resend reserved less cash than the order it sent can cost (a sell's notional went up).
    // Kept as it is, it is off the new tick, which the send refuses (send.ts instrumentRuleRefusing), so the resend
    // refuses it up front, holding nothing (resend-instrument-rules.test.ts has the other rules).
    const harness = Harness.funded()
    const orderId = failedAbsentOrder(harness, { price: '50000.05' })
    const instruments = defaultSimInstruments().map((instrument) => (instrument.symbol === 'BTC-USD' ? { ...instrument, tickSize: d('1') } : instrument))
    harness.run({ kind: 'configure', nowMs: harness.nowMs, config: { ...config(), instruments, digest: 'cfg-resend-tick' } })
    expectRefused(harness, orderId, resend(harness, orderId), 'PRICE_OFF_TICK')
    expect(harness.order(orderId).price).toBe(d('50000.05'))
  })

  test('the account and the trader who may act for it are still checked first', () => {
    const harness = Harness.funded()
    const orderId = failedOrder(harness)
    const stranger = { ...trader, id: 'mallory', accounts: [`${ACCOUNT}-other`] }
    const decision = harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: stranger, orderId, market: market() })
    // Refused without a record: a principal that may not act for the account writes nothing into its history.
    expect(decision).toMatchObject({ events: [], reply: { kind: 'refused', reason: 'ACCOUNT_NOT_PERMITTED' } })
  })

  test('a resend of no known order is refused without a record: there is no order to attach it to', () => {
    const harness = Harness.funded()
    expect(resend(harness, 'no-such-order')).toMatchObject({ events: [], reply: { kind: 'refused', reason: 'ORDER_NOT_FOUND' } })
  })

  test('a resend of an order that is not resendable is recorded with why not, and the order is left as it was', () => {
    const harness = Harness.funded()
    const orderId = harness.placedId()
    const before = structuredClone(harness.order(orderId))
    const decision = resend(harness, orderId)
    expect(decision.events).toEqual([{ type: 'order.resend_refused', atMs: harness.nowMs, orderId, principalId: ops.id, reason: 'ORDER_NOT_RESENDABLE', detail: 'order is Enqueued', configDigest: harness.state.config?.digest as string }])
    expect(harness.order(orderId)).toEqual(before)
  })

  test('a refusal short of funds says what the resend needed and what was available', () => {
    const harness = Harness.funded()
    const orderId = failedOrder(harness)
    harness.run({ kind: 'fund', nowMs: harness.nowMs, principalId: ops.id, accountId: ACCOUNT, asset: 'USD', amount: -d('99000'), reference: 'withdrawal' })
    const detail = expectRefused(harness, orderId, resend(harness, orderId), 'INSUFFICIENT_FUNDS')
    expect(detail).toBe('the resend cannot be reserved again: needs 5005 USD, 1000 available')
  })
})
