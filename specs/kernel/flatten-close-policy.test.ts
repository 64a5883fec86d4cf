/**
 * A flatten's closes bypass intake's policy guard by design (they only reduce risk), but the I-100 gate's check 3
 * (policy_allow) held them at the send to the policy's validity window and instrument list: an account flattened
 * because its policy ran out, or no longer lists the instrument — when an operator flattens — had its closes Rejected
 * GATE_BLOCKED, its position kept. A close is held only by what says who may trade live at all: a policy must exist,
 * and allow live in live. A new order under such a policy is still refused, and so is a place of it at the send.
 */

import { describe, expect, test } from 'bun:test'
import type { Policy } from '../../src/domain/accounts.ts'
import type { EventOf } from '../../src/domain/events/index.ts'
import type { Mode } from '../../src/domain/modes.ts'
import { ACCOUNT, admin, config, d, Harness, market, ops, paperFacts, policy, T0 } from './fixtures.ts'

const AT = T0 + 5_000

function flattened(accountPolicy: Policy, mode: Mode = 'paper'): { harness: Harness; close: EventOf<'order.accepted'> } {
  const harness = Harness.funded({ config: config({ policies: [accountPolicy] }) })
  if (mode !== harness.state.mode) harness.run({ kind: 'set_mode', nowMs: T0, principal: admin, mode, note: 'spec' })
  harness.nowMs = AT
  const decision = harness.run({ kind: 'flatten', nowMs: AT, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: { 'sim:BTC-USD': market('50000', { observedAtMs: AT }) } })
  const close = decision.events.find((event): event is EventOf<'order.accepted'> => event.type === 'order.accepted' && event.symbol === 'BTC-USD')
  if (close === undefined) throw new Error('no close for BTC-USD')
  return { harness, close }
}

function sendClose(harness: Harness, orderId: string) {
  return harness.run({ kind: 'send', nowMs: AT, orderId, action: 'place', facts: paperFacts, market: market('50000', { observedAtMs: AT }) })
}

describe("a flatten's close at the send", () => {
  const cases: [string, Policy][] = [
    ['the policy has expired', policy({ validUntilMs: T0 + 1_000 })],
    ['the policy no longer lists the instrument', policy({ instruments: ['sim:ETH-USD'] })],
  ]
  for (const [name, accountPolicy] of cases) {
    test(`goes out when ${name}; a new order does not`, () => {
      const { harness, close } = flattened(accountPolicy)
      expect(close.qty).toBe(d('2'))
      const send = sendClose(harness, close.orderId)
      expect(harness.eventTypes(send)).toEqual(['order.send_requested'])
      const requested = send.events[0] as EventOf<'order.send_requested'>
      expect(requested.gate.checks.find((check) => check.check === 'policy_allow')).toMatchObject({ pass: true, detail: expect.stringContaining('a flatten close') })
      expect(harness.order(close.orderId).status).toBe('Sent')
      expect(harness.place({ client_order_id: 'n', side: 'sell', price: '50000' }).reply).toMatchObject({ kind: 'rejected', guard: 'policy' })
    })
  }

  test('is still blocked in live when the policy does not allow live', () => {
    const { harness, close } = flattened(policy({ liveAllowed: false }), 'live')
    const send = sendClose(harness, close.orderId)
    const blocked = send.events.find((event): event is EventOf<'order.send_blocked'> => event.type === 'order.send_blocked')
    expect(blocked?.gate.checks.find((check) => check.check === 'policy_allow')).toMatchObject({ pass: false, detail: 'policy missing, expired or not allowing' })
  })
})
