/**
 * paper → live ends the work decided in paper (mode-escalation.ts), an Unknown place's included (59feaf84): read back
 * absent it would be resendable, and a resend sends the paper decision under live. An order already Failed and proven
 * absent at the change is resendable the same way, and the change leaves it so: resent after it by an operator not
 * allowed to trade live, the paper decision of a principal not allowed live goes out under live, every gate check
 * passing (review rev-late3). In live a resend is a new send decided by who asks for it: one not allowed live is
 * refused (LIVE_NOT_PERMITTED, recorded), as its place would be; a start's resend of its suspects is the bootstrap's,
 * which is allowed.
 */

import { expect, test } from 'bun:test'
import { admin, Harness, market, ops, trader } from './fixtures.ts'

const paperOnly = { ...trader, liveAllowed: false }

test('a paper order Failed and absent at paper → live is not resent under live by an operator not allowed live', () => {
  const { harness, orderId } = failedAbsentPaperOrder()
  expect(harness.order(orderId)).toMatchObject({ status: 'Failed', notAtVenue: true })
  harness.run({ kind: 'set_mode', nowMs: harness.nowMs, principal: admin, mode: 'live', note: '' })
  const resend = harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: ops, orderId, market: market('50000', { observedAtMs: harness.nowMs }) })
  expect(resend.reply).toMatchObject({ kind: 'refused', reason: 'LIVE_NOT_PERMITTED' })
  expect(harness.order(orderId).status).toBe('Failed')
  expect(harness.next()).toBeNull()
})

test('in live a resend by a principal allowed live goes on, in paper one by any operator', () => {
  for (const mode of ['live', 'paper'] as const) {
    const { harness, orderId } = failedAbsentPaperOrder()
    if (mode === 'live') harness.run({ kind: 'set_mode', nowMs: harness.nowMs, principal: admin, mode: 'live', note: '' })
    const principal = mode === 'live' ? { ...ops, liveAllowed: true } : ops
    const resend = harness.run({ kind: 'resend', nowMs: harness.nowMs, principal, orderId, market: market('50000', { observedAtMs: harness.nowMs }) })
    expect(resend.reply.kind).not.toBe('refused')
  }
})

/** A paper-only trader's order, sent, timed out and read back absent: Failed, resendable. */
function failedAbsentPaperOrder(): { harness: Harness; orderId: string } {
  const harness = Harness.funded()
  const orderId = harness.placedId({}, { principal: paperOnly })
  harness.send(orderId)
  harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
  harness.nowMs += 5_000
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: null, trades: [] })
  return { harness, orderId }
}
