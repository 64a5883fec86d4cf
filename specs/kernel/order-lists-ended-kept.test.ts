/**
 * Ended lists beyond ORDER_LISTS_ENDED_KEPT_MAX are forgotten oldest first (src/kernel/order-lists/apply-list.ts),
 * except those with a leg a start may still resend (a bootstrap suspect): forgotten, the leg would no longer be known
 * as one, and the start would resend it as a lone order under a list that fired.
 */

import { expect, test } from 'bun:test'
import { ORDER_LISTS_ENDED_KEPT_MAX } from '../../src/domain/order-lists.ts'
import { ACCOUNT, body, Harness, market, ops, trader } from './fixtures.ts'

function placeList(harness: Harness, key: string): { listId: string; a: string; b: string } {
  const legs = [body({ side: 'sell', qty: '0.1', price: '50500', client_order_id: undefined }), body({ side: 'sell', qty: '0.1', price: '49500', client_order_id: undefined })]
  const decision = harness.run({
    kind: 'place_list', nowMs: harness.nowMs, principal: trader, idempotencyKey: null, body: { type: 'oco', account: ACCOUNT, client_list_id: key, orders: legs },
    market: market('50000', { observedAtMs: harness.nowMs }), live: { credentialPresent: true, environmentLive: true, haLeader: true }, configDigest: 'cfg-1', buildCommit: 'test',
  })
  if (decision.reply.kind !== 'list_accepted') throw new Error(`expected the list accepted, got ${JSON.stringify(decision.reply)}`)
  const [a, b] = decision.reply.orderIds as [string, string]
  return { listId: decision.reply.listId, a, b }
}

test('a start that ends more lists than are kept before its resends still refuses to resend a fired leg: its list is kept while it is a suspect', () => {
  const harness = Harness.funded()
  const { listId, a, b } = placeList(harness, 'first')
  // A's place goes unanswered; the process stops. The start marks A Unknown and a suspect, then proves it never
  // reached the venue: A Failed fires the list, B (never sent) is canceled on the spot, and the list ends.
  harness.send(a)
  harness.nowMs += 1_000
  harness.run({ kind: 'bootstrap', nowMs: harness.nowMs })
  harness.run({ kind: 'mark_suspects', nowMs: harness.nowMs })
  expect(harness.order(a)).toMatchObject({ status: 'Unknown', bootstrapSuspect: true })
  harness.nowMs += 5_000
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId: a, venueOrder: null, trades: [] })
  expect(harness.order(a)).toMatchObject({ status: 'Failed', notAtVenue: true })
  expect(harness.order(b).status).toBe('Canceled')
  expect(harness.state.orderLists.lists.get(listId)?.endedAtMs).toBe(harness.nowMs)
  // The same start's converge wait ends more lists than are kept (each: a leg canceled, the other with it).
  for (let index = 0; index < ORDER_LISTS_ENDED_KEPT_MAX; index++) {
    const other = placeList(harness, `other-${index}`)
    harness.cancel(other.a)
  }
  // The start's resend of A (a suspect, Failed, proven never received) is refused: it would work on alone.
  const resend = harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: ops, orderId: a, market: market('50000', { observedAtMs: harness.nowMs }) })
  expect(resend.reply).toMatchObject({ kind: 'refused', reason: 'ORDER_NOT_RESENDABLE' })
  expect(harness.order(a).status).toBe('Failed')
  // Kept for the start's resends though the oldest: the next oldest went instead.
  expect(harness.state.orderLists.lists.has(listId)).toBe(true)
  expect(harness.state.orderLists.lists.size).toBe(ORDER_LISTS_ENDED_KEPT_MAX)
  // Once the start has cleared its marks, the list is forgotten when the next list ends.
  harness.run({ kind: 'clear_suspects', nowMs: harness.nowMs })
  harness.cancel(placeList(harness, 'last').a)
  expect(harness.state.orderLists.lists.has(listId)).toBe(false)
  expect(harness.state.orderLists.lists.size).toBe(ORDER_LISTS_ENDED_KEPT_MAX)
})
