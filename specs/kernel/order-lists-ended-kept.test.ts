/**
 * Ended lists beyond ORDER_LISTS_ENDED_KEPT_MAX are forgotten oldest first (src/kernel/order-lists/apply-list.ts), up
 * to the first a leg of the kernel still holds: forgotten, the leg would no longer be known as one — a bootstrap
 * suspect (never retired while marked) would be resent as a lone order under a list that fired, and a leg venue news
 * brings back live would not be canceled (order-lists-revived.test.ts).
 */

import { expect, test } from 'bun:test'
import { ORDER_LISTS_ENDED_KEPT_MAX } from '../../src/domain/order-lists.ts'
import { stateDigest } from '../../src/kernel/index.ts'
import { kernelStateBytes, kernelStateFromBytes } from '../../src/runtime/snapshot/state-codec.ts'
import { ACCOUNT, body, config, Harness, market, ops, report, trader } from './fixtures.ts'

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
  // Few terminal orders kept, no grace: the other lists' legs are retired as they end; the suspect is not.
  const harness = Harness.funded({ config: config({ params: { terminalOrdersKeptMax: 4, terminalOrderRetireAfterMs: 0 } }) })
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
    harness.nowMs += 1
    const other = placeList(harness, `other-${index}`)
    harness.cancel(other.a)
  }
  // The start's resend of A (a suspect, Failed, proven never received) is refused: it would work on alone.
  const resend = harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: ops, orderId: a, market: market('50000', { observedAtMs: harness.nowMs }) })
  expect(resend.reply).toMatchObject({ kind: 'refused', reason: 'ORDER_NOT_RESENDABLE' })
  expect(harness.order(a).status).toBe('Failed')
  // Kept for the start's resends though the oldest (its suspect leg is held); the lists behind it wait with it,
  // though their legs are retired.
  expect(harness.state.orders.has(a)).toBe(true)
  expect(harness.state.orders.has(b)).toBe(false)
  expect(harness.state.orderLists.lists.has(listId)).toBe(true)
  expect(harness.state.orderLists.lists.size).toBe(ORDER_LISTS_ENDED_KEPT_MAX + 1)
  // Once the start has cleared its marks, A is retired, and the list goes (with the one behind it) when the next ends.
  harness.run({ kind: 'clear_suspects', nowMs: harness.nowMs })
  harness.nowMs += 1
  harness.cancel(placeList(harness, 'last').a)
  expect(harness.state.orders.has(a)).toBe(false)
  expect(harness.state.orderLists.lists.has(listId)).toBe(false)
  expect(harness.state.orderLists.endedByLeg.has(a)).toBe(false)
  expect(harness.state.orderLists.lists.size).toBe(ORDER_LISTS_ENDED_KEPT_MAX)
})

test('an ended list beyond the kept ones stays while the kernel holds a leg of it, and goes once both are retired', () => {
  // Terminal orders kept for an hour: every leg is still held, so no ended list is forgotten.
  const harness = Harness.funded({ config: config({ params: { terminalOrdersKeptMax: 4, terminalOrderRetireAfterMs: 3_600_000 } }) })
  const first = placeList(harness, 'first')
  harness.cancel(first.a)
  for (let index = 0; index < ORDER_LISTS_ENDED_KEPT_MAX; index++) harness.cancel(placeList(harness, `other-${index}`).a)
  expect(harness.state.orderLists.lists.size).toBe(ORDER_LISTS_ENDED_KEPT_MAX + 1)
  expect(harness.state.orderLists.endedByLeg.get(first.b)).toBe(first.listId)
  // An hour on, the next order event retires the oldest legs; the next list to end forgets the lists beyond the bound.
  harness.nowMs += 3_600_000
  harness.cancel(placeList(harness, 'last').a)
  expect(harness.state.orders.has(first.a)).toBe(false)
  expect(harness.state.orderLists.lists.has(first.listId)).toBe(false)
  expect(harness.state.orderLists.endedByLeg.has(first.b)).toBe(false)
  expect(harness.state.orderLists.lists.size).toBe(ORDER_LISTS_ENDED_KEPT_MAX)
  expect(harness.state.orderLists.endedByLeg.size).toBe(2 * ORDER_LISTS_ENDED_KEPT_MAX)
})

test('a leg that came back live and stays so (its cancel never answered) holds only its own list: the ended lists behind it are forgotten as their legs retire', () => {
  // Few terminal orders kept, no grace: the other lists' legs are retired as they end.
  const harness = Harness.funded({ config: config({ params: { terminalOrdersKeptMax: 4, terminalOrderRetireAfterMs: 0 } }) })
  const first = placeList(harness, 'first')
  // A's place times out and A is read back not found (Failed): the list fires, B is canceled at the venue, the list ends.
  harness.send(first.b)
  harness.placeResult(first.b, { kind: 'ok', value: { venueOrderId: 'v-b' } })
  harness.send(first.a)
  harness.placeResult(first.a, { kind: 'unknown', reason: 'timeout' })
  harness.nowMs += 5_000
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId: first.a, venueOrder: null, trades: [] })
  harness.send(first.b, 'cancel')
  harness.cancelResult(first.b, { kind: 'ok', value: { accepted: true } })
  harness.report(report(harness.order(first.b), { execId: 'cb', kind: 'canceled', venueOrderId: 'v-b' }))
  expect(harness.state.orderLists.lists.get(first.listId)?.endedAtMs).not.toBeNull()
  // The venue reports A after all: A is live again, its OCO_LEG_REVIVED cancel asked and never answered (a venue gone
  // quiet). A is not terminal, so never retired: its list is held for as long as it stays so.
  harness.report(report(harness.order(first.a), { execId: 'na', kind: 'new', venueOrderId: 'v-a' }))
  expect(harness.order(first.a).status).toBe('CancelRequested')
  // Twice the kept lists end meanwhile, their legs retired as they end: the ones beyond the bound go, A's list stays.
  for (let index = 0; index < 2 * ORDER_LISTS_ENDED_KEPT_MAX; index++) {
    harness.nowMs += 1
    harness.cancel(placeList(harness, `other-${index}`).a)
  }
  expect(harness.state.orderLists.lists.has(first.listId)).toBe(true)
  expect(harness.state.orderLists.endedByLeg.get(first.a)).toBe(first.listId)
  // Walked past, it counts toward the bound: the newest lists make up the rest (it held all 2001 before).
  expect(harness.state.orderLists.lists.size).toBe(ORDER_LISTS_ENDED_KEPT_MAX)
  expect(harness.state.orderLists.endedByLeg.size).toBe(2 * ORDER_LISTS_ENDED_KEPT_MAX)
  // A snapshot restores the same lists and leg indexes (derived), and both forget alike from there.
  const restored = kernelStateFromBytes(kernelStateBytes(harness.state))
  expect(stateDigest(restored)).toBe(stateDigest(harness.state))
  expect([...restored.orderLists.lists.keys()]).toEqual([...harness.state.orderLists.lists.keys()])
})
