/**
 * The kernel allows no more than the HTTP role table (README "Authentication", src/http/auth/permissions.ts): placing
 * and amending need `trader` or `bot` and the account in scope; canceling and flattening any account is for ops and
 * admin too. A command from another front end (or a route with a bug) must not let an admin token trade by itself, nor
 * an operator amend another account's order.
 */

import { describe, expect, test } from 'bun:test'
import type { Principal } from '../../src/domain/accounts.ts'
import { ACCOUNT, admin, Harness, ops, trader } from './fixtures.ts'

const adminInScope: Principal = { ...admin, accounts: [ACCOUNT] }
const opsInScope: Principal = { ...ops, accounts: [ACCOUNT] }

describe('the kernel holds the HTTP role table', () => {
  test('an admin token naming the account does not place without trader or bot', () => {
    const harness = Harness.funded()
    const decision = harness.place({}, { principal: adminInScope })
    expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'PERMISSION_DENIED' })
  })

  test('an admin that also holds trader places', () => {
    const harness = Harness.funded()
    expect(harness.place({}, { principal: { ...adminInScope, roles: ['admin', 'trader'] } }).reply.kind).toBe('accepted')
  })

  for (const [name, principal] of [['ops', opsInScope], ['admin', adminInScope], ['ops without scope', ops], ['admin without scope', admin]] as const) {
    test(`${name} may not amend an order: the policy guard refuses it, the order is unchanged`, () => {
      const harness = Harness.funded()
      const orderId = harness.openOrder()
      const before = structuredClone(harness.order(orderId))
      const decision = harness.amend(orderId, { price: '49000' }, { principal })
      expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'PERMISSION_DENIED' })
      expect(decision.events.map((event) => event.type)).toEqual(['order.amend_rejected'])
      expect(harness.order(orderId)).toEqual(before)
    })
  }

  test('the owner amends; ops and admin still cancel any account', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    expect(harness.amend(orderId, { price: '49000' }, { principal: trader }).reply.kind).toBe('amend_accepted')
    const other = harness.openOrder({ client_order_id: 'c2' })
    expect(harness.run({ kind: 'cancel', nowMs: harness.nowMs, principal: ops, orderId: other, reason: 'USER_CANCEL' }).reply.kind).toBe('done')
    const third = harness.openOrder({ client_order_id: 'c3' })
    expect(harness.run({ kind: 'cancel', nowMs: harness.nowMs, principal: admin, orderId: third, reason: 'USER_CANCEL' }).reply.kind).toBe('done')
    expect(harness.order(third).status).toBe('CancelRequested')
  })
})
