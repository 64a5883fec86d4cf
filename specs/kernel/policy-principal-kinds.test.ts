/**
 * §9 "policy (bot/user) enforces new/cancel": a policy's newOrdersBy names the principal kinds that may place and amend
 * orders for its account; cancels never read it. A policy without it decides, and records, as before it existed.
 */

import { describe, expect, test } from 'bun:test'
import type { Principal } from '../../src/domain/accounts.ts'
import type { EventOf } from '../../src/domain/events/index.ts'
import { decodeEvent, encodeEvent } from '../../src/domain/events/index.ts'
import { applyInPlace, stateDigest } from '../../src/kernel/index.ts'
import { ACCOUNT, config, Harness, policy, trader } from './fixtures.ts'

const bot: Principal = { id: 'robo', roles: ['bot'], accounts: [ACCOUNT], liveAllowed: true }
/** A token claiming both roles is a bot (§14: the stricter reading). */
const botTrader: Principal = { id: 'both', roles: ['trader', 'bot'], accounts: [ACCOUNT], liveAllowed: true }

function policyGuardOf(decision: ReturnType<Harness['place']>): { outcome: string; reason?: string; inputs: Record<string, unknown> } {
  const event = decision.events[0] as EventOf<'order.accepted'> | EventOf<'order.rejected'>
  const guard = event.decision.guards.find((item) => item.guard === 'policy')
  if (guard === undefined) throw new Error('no policy guard recorded')
  return guard as { outcome: string; reason?: string; inputs: Record<string, unknown> }
}

describe('policy newOrdersBy (principal kinds)', () => {
  test('traders only: a bot, or a token that is trader and bot, is refused a new order with PRINCIPAL_KIND_NOT_ALLOWED; a trader is not', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ newOrdersBy: ['trader'] })] }) })
    for (const [principal, key] of [[bot, 'b1'], [botTrader, 'b2']] as const) {
      const decision = harness.place({ client_order_id: key }, { principal })
      expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'PRINCIPAL_KIND_NOT_ALLOWED', guard: 'policy' })
      expect(policyGuardOf(decision).inputs).toMatchObject({ principalKind: 'bot', newOrdersBy: 'trader' })
    }
    const accepted = harness.place({ client_order_id: 't1' })
    expect(accepted.reply.kind).toBe('accepted')
    expect(policyGuardOf(accepted)).toMatchObject({ outcome: 'pass', inputs: { principalKind: 'trader', newOrdersBy: 'trader' } })
  })

  test('bots only: a trader is refused, a bot accepted', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ newOrdersBy: ['bot'] })] }) })
    expect(harness.place({ client_order_id: 't1' }).reply).toMatchObject({ kind: 'rejected', reason: 'PRINCIPAL_KIND_NOT_ALLOWED' })
    expect(harness.place({ client_order_id: 'b1' }, { principal: bot }).reply.kind).toBe('accepted')
  })

  test('a bot the policy refuses may still cancel an order of its account, and may not amend it', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ newOrdersBy: ['trader'] })] }) })
    const orderId = harness.openOrder({ client_order_id: 'resting' })
    expect(harness.amend(orderId, { qty: '0.05' }, { principal: bot }).reply).toMatchObject({ kind: 'rejected', reason: 'PRINCIPAL_KIND_NOT_ALLOWED' })
    const cancel = harness.run({ kind: 'cancel', nowMs: harness.nowMs, principal: bot, orderId, reason: 'USER_CANCEL' })
    expect(cancel.reply.kind).not.toBe('rejected')
    expect(cancel.events.map((event) => event.type)).toContain('order.cancel_requested')
    expect(harness.order(orderId).status).toBe('CancelRequested')
  })

  test('an empty list stops every new order and amend, never a cancel', () => {
    const harness = Harness.funded({ config: config({ policies: [policy()] }) })
    const orderId = harness.openOrder({ client_order_id: 'resting' })
    harness.run({ kind: 'configure', nowMs: harness.nowMs, config: { ...config({ policies: [policy({ newOrdersBy: [] })] }), digest: 'cfg-2' } })
    expect(harness.place({ client_order_id: 't2' }).reply).toMatchObject({ kind: 'rejected', reason: 'PRINCIPAL_KIND_NOT_ALLOWED' })
    expect(harness.place({ client_order_id: 'b2' }, { principal: bot }).reply).toMatchObject({ kind: 'rejected', reason: 'PRINCIPAL_KIND_NOT_ALLOWED' })
    expect(harness.amend(orderId, { qty: '0.05' }).reply).toMatchObject({ kind: 'rejected', reason: 'PRINCIPAL_KIND_NOT_ALLOWED' })
    expect(harness.cancel(orderId).events.map((event) => event.type)).toContain('order.cancel_requested')
  })

  test('without newOrdersBy every trading principal places, and the decision record holds no principal kind (as before the field)', () => {
    const harness = Harness.funded()
    for (const [principal, key] of [[trader, 't'], [bot, 'b'], [botTrader, 'tb']] as const) {
      const decision = harness.place({ client_order_id: key }, { principal })
      expect(decision.reply.kind).toBe('accepted')
      expect(Object.keys(policyGuardOf(decision).inputs).sort()).toEqual(['account', 'instrument', 'maxOrderNotional', 'notional', 'openOrders', 'policyPresent', 'principalId', 'roles'])
    }
  })

  test('the policy with newOrdersBy survives the log codec and replays to the same decisions', () => {
    const live = Harness.funded({ config: config({ policies: [policy({ newOrdersBy: ['bot'] })] }) })
    live.place({ client_order_id: 'before' }, { principal: bot })
    // Replay: every logged event, through the codec again, applied to a fresh state.
    const replayed = new Harness()
    for (const event of live.log) applyInPlace(replayed.state, decodeEvent(encodeEvent(event)), { lsn: replayed.state.lastLsn + 1 })
    expect(replayed.state.policies.get(ACCOUNT)?.newOrdersBy).toEqual(['bot'])
    expect(stateDigest(replayed.state)).toBe(stateDigest(live.state))
    for (const [principal, key] of [[trader, 'x1'], [bot, 'x2'], [botTrader, 'x3']] as const) {
      const a = live.place({ client_order_id: key }, { principal })
      expect(replayed.place({ client_order_id: key }, { principal }).events).toEqual(a.events)
    }
    expect(live.log.filter((event) => event.type === 'order.rejected').length).toBe(1)
  })
})
