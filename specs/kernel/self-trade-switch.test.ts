/**
 * The account policy's self-trade switch (Policy.selfTrade, src/kernel/intake/self-trade.ts): `reject` refuses an
 * order crossing the account's own open order on the other side (SELF_TRADE_PREVENTED), `allow` lets it through and
 * says so in the decision record, per account. A policy without the field is an older build's record — that build
 * had no check — and decides without one, recording nothing, so an older log re-decides as it was decided; this
 * build's configure records a log's config again, with the field, when the log's has none.
 */

import { describe, expect, test } from 'bun:test'
import type { Policy } from '../../src/domain/accounts.ts'
import type { Decision } from '../../src/kernel/index.ts'
import { ACCOUNT, admin, config, d, Harness, market, policy, T0, trader } from './fixtures.ts'

const OTHER = 'acct-2'

function funded(own: Partial<Policy>, other: Partial<Policy> = {}): Harness {
  const harness = Harness.funded({ config: config({ policies: [policy(own), policy({ ...other, accountId: OTHER })] }) })
  for (const [asset, amount] of [['USD', '100000'], ['BTC', '2']] as const) {
    harness.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: OTHER, asset, amount: d(amount), reference: 'config' })
  }
  return harness
}

const both = { ...trader, accounts: [ACCOUNT, OTHER] }

function policyInputs(decision: Decision): Record<string, unknown> {
  const event = decision.events[0]
  if (event === undefined || !('decision' in event)) throw new Error('expected a decision record')
  const record = event.decision.guards.find((guard) => guard.guard === 'policy')
  if (record === undefined) throw new Error('expected the policy guard in the record')
  return record.inputs
}

/** A policy as an older build recorded it: no selfTrade member at all. */
function olderPolicy(accountId = ACCOUNT): Policy {
  const { selfTrade: _, ...older } = policy({ accountId })
  return older
}

describe('the policy self-trade switch', () => {
  test('"allow" lets a crossing order through and records so; "reject" on another account still refuses', () => {
    const harness = funded({ selfTrade: 'allow' }, { selfTrade: 'reject' })
    harness.openOrder({ client_order_id: 'ask', side: 'sell', price: '50100' })
    const cross = harness.place({ client_order_id: 'b1', price: '50100' })
    expect(cross.reply.kind).toBe('accepted')
    expect(policyInputs(cross)).toMatchObject({ selfTrade: 'allow' })
    expect(policyInputs(cross)).not.toHaveProperty('selfTradeOrderId')
    // The other account, on reject, is refused the same cross of its own.
    const ask = harness.placedId({ client_order_id: 'ask-2', account: OTHER, side: 'sell', price: '50100' }, { principal: both })
    harness.send(ask)
    harness.placeResult(ask, { kind: 'ok', value: { venueOrderId: `v-${ask}` } })
    const refused = harness.place({ client_order_id: 'b2', account: OTHER, price: '50100' }, { principal: both })
    expect(refused.reply).toMatchObject({ kind: 'rejected', reason: 'SELF_TRADE_PREVENTED', guard: 'policy' })
  })

  test('"allow" lets an amend into a cross and a resend against a crossing order through', () => {
    const harness = funded({ selfTrade: 'allow' })
    const bid = harness.openOrder({ client_order_id: 'bid', price: '50000' })
    harness.openOrder({ client_order_id: 'ask', side: 'sell', price: '50100' })
    expect(harness.amend(bid, { price: '50200' }).reply.kind).toBe('amend_accepted')

    const failed = harness.placedId({ client_order_id: 'lost', qty: '0.5', price: '50000' })
    harness.send(failed)
    harness.placeResult(failed, { kind: 'unknown', reason: 'timeout' })
    harness.nowMs += 5_000
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId: failed, venueOrder: null, trades: [] })
    expect(harness.order(failed).status).toBe('Failed')
    const resend = harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: admin, orderId: failed, market: market('50000', { observedAtMs: harness.nowMs }) })
    expect(resend.events.map((event) => event.type)).toEqual(['order.resend_requested'])
  })

  test('a policy without the field (an older build\'s record) is not checked and records nothing, as that build decided', () => {
    const harness = Harness.funded({ config: config({ policies: [olderPolicy()] }) })
    expect('selfTrade' in (harness.state.policies.get(ACCOUNT) as Policy)).toBe(false)
    harness.openOrder({ client_order_id: 'ask', side: 'sell', price: '50100' })
    const cross = harness.place({ client_order_id: 'b1', price: '50100' })
    expect(cross.reply.kind).toBe('accepted')
    const inputs = policyInputs(cross)
    for (const key of ['selfTrade', 'selfTradeOrderId', 'selfTradePrice']) expect(inputs).not.toHaveProperty(key)
  })

  test('configure records a log\'s config again when its policies have no selfTrade, with the same digest; then the check applies', () => {
    const harness = Harness.funded({ config: config({ policies: [olderPolicy()] }) })
    harness.openOrder({ client_order_id: 'ask', side: 'sell', price: '50100' })
    // The same config file (same digest), now as this build records it.
    const recorded = harness.run({ kind: 'configure', nowMs: harness.nowMs, config: config() })
    expect(recorded.events.map((event) => event.type)).toEqual(['kernel.configured'])
    expect(harness.state.policies.get(ACCOUNT)?.selfTrade).toBe('reject')
    expect(harness.place({ client_order_id: 'b1', price: '50100' }).reply).toMatchObject({ kind: 'rejected', reason: 'SELF_TRADE_PREVENTED' })
    // Once recorded with it, the same config is not recorded again; nor is a config without it over one with it.
    expect(harness.run({ kind: 'configure', nowMs: harness.nowMs, config: config() }).events).toEqual([])
    expect(harness.run({ kind: 'configure', nowMs: harness.nowMs, config: config({ policies: [olderPolicy()] }) }).events).toEqual([])
  })
})
