/**
 * Where an account's own kill switch refuses a new order or an amend: in guard 3 (mode), right after the gateway's
 * switch — the same place, so an order a stopped account sends is refused as the same order under the gateway's HALT
 * would be. Guard 2 (permission and policy, seed 004 §5's fixed order) runs first under either switch: who may act on
 * the account is settled before anything about the account's state is told (a principal of another account learns
 * ACCOUNT_NOT_PERMITTED, never that the account is stopped), and a policy refusal, SELF_TRADE_PREVENTED among them, is
 * the first refusal under either switch. Moving only the account's switch ahead of policy would make the two switches
 * explain one order differently, and re-decide (redecide, a standby) the refusals already recorded differently.
 */

import { describe, expect, test } from 'bun:test'
import type { Principal } from '../../src/domain/accounts.ts'
import type { KillSwitchAction } from '../../src/domain/modes.ts'
import type { Decision } from '../../src/kernel/index.ts'
import { ACCOUNT, Harness, ops } from './fixtures.ts'

const stranger: Principal = { id: 'eve', roles: ['trader'], accounts: ['acct-2'], liveAllowed: true }

function guardsOf(decision: Decision): string[] {
  const event = decision.events[0]
  if (event === undefined || !('decision' in event)) throw new Error('expected a decision record')
  return event.decision.guards.map((guard) => `${guard.guard}:${guard.outcome}`)
}

function engage(harness: Harness, action: KillSwitchAction, accountId: string | undefined): void {
  const scope = accountId === undefined ? {} : { accountId }
  harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action, note: 'guard order', ordersMax: 100, ...scope })
}

describe("an account's own switch refuses where the gateway's does (guard 3, after policy)", () => {
  for (const [scope, accountId, reason] of [['gateway', undefined, 'MODE_HALTED'], ['account', ACCOUNT, 'ACCOUNT_HALTED']] as const) {
    test(`${scope} HALT: a plain order is refused ${reason} by the mode guard; a crossing one SELF_TRADE_PREVENTED by policy first, as under the other switch`, () => {
      const harness = Harness.funded()
      const ask = harness.openOrder({ client_order_id: 'ask', side: 'sell', price: '50100' })
      const bid = harness.openOrder({ client_order_id: 'bid', price: '50000' })
      engage(harness, 'HALT', accountId)
      const plain = harness.place({ client_order_id: 'plain', price: '49000' })
      expect(plain.reply).toMatchObject({ kind: 'rejected', reason, guard: 'mode' })
      expect(guardsOf(plain)).toEqual(['syntax:pass', 'policy:pass', 'mode:fail'])
      const crossing = harness.place({ client_order_id: 'crossing', price: '50100' })
      expect(crossing.reply).toMatchObject({ kind: 'rejected', reason: 'SELF_TRADE_PREVENTED', guard: 'policy' })
      expect(guardsOf(crossing)).toEqual(['syntax:pass', 'policy:fail'])
      // An amend the same: into a cross it is refused by policy, otherwise by the switch.
      expect(harness.amend(bid, { price: '50200' }).reply).toMatchObject({ kind: 'rejected', reason: 'SELF_TRADE_PREVENTED', guard: 'policy' })
      expect(harness.amend(bid, { qty: '0.2' }).reply).toMatchObject({ kind: 'rejected', reason, guard: 'mode' })
      expect(harness.order(ask).status).toBe('AckedOpen')
      // A principal of another account is told it may not act on the account, not that the account is stopped.
      expect(harness.place({ client_order_id: 'stranger', price: '49000' }, { principal: stranger }).reply).toMatchObject({ kind: 'rejected', reason: 'ACCOUNT_NOT_PERMITTED', guard: 'policy' })
    })
  }
})
