/**
 * A leg of a fired OCO list that venue news brings back live is canceled in that decision
 * (src/kernel/order-lists/revived-legs.ts), whether its list is still open or has ended — even beyond the newest
 * ended lists kept, since an ended list is kept while the kernel holds a leg of it (apply-list.ts). A leg whose cancel
 * its list asked already is not asked again, and the leg that fired its list by executing works on.
 */

import { describe, expect, test } from 'bun:test'
import type { DomainEvent, EventOf } from '../../src/domain/events/index.ts'
import { ORDER_LISTS_ENDED_KEPT_MAX } from '../../src/domain/order-lists.ts'
import { applyInPlace, decide, initialState, stateDigest, type Decision } from '../../src/kernel/index.ts'
import { ACCOUNT, body, d, Harness, market, report, trader } from './fixtures.ts'

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

/** A list whose leg A was found not at the venue (Failed), which fired it and asked B's cancel; B rests at the venue. */
function firedByFailure(harness: Harness, key = 'revive-1'): { listId: string; a: string; b: string } {
  const list = placeList(harness, key)
  harness.send(list.b)
  harness.placeResult(list.b, { kind: 'ok', value: { venueOrderId: `v-${list.b}` } })
  harness.send(list.a)
  harness.placeResult(list.a, { kind: 'unknown', reason: 'timeout' })
  harness.nowMs += 5_000
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId: list.a, venueOrder: null, trades: [] })
  expect(harness.order(list.a)).toMatchObject({ status: 'Failed', notAtVenue: true, cancelWanted: false })
  expect(harness.order(list.b)).toMatchObject({ status: 'CancelRequested', lastReason: 'OCO_SIBLING_ENDED' })
  return list
}

/** B's cancel goes out and the venue confirms it: B Canceled, so the list ends. */
function cancelAtVenue(harness: Harness, orderId: string): void {
  harness.send(orderId, 'cancel')
  harness.cancelResult(orderId, { kind: 'ok', value: { accepted: true } })
  harness.report(report(harness.order(orderId), { execId: `c-${orderId}`, kind: 'canceled', venueOrderId: `v-${orderId}` }))
  expect(harness.order(orderId).status).toBe('Canceled')
}

/** The venue reports A after all: the place that timed out had reached it. */
function lateNew(harness: Harness, orderId: string): Decision {
  return harness.report(report(harness.order(orderId), { execId: `n-${orderId}`, kind: 'new', venueOrderId: `v-${orderId}` }))
}

const cancelsOf = (decision: Decision): [string, string][] =>
  decision.events
    .filter((event): event is EventOf<'order.cancel_requested'> => event.type === 'order.cancel_requested')
    .map((event) => [event.orderId, event.reason])

function replayedDigest(log: readonly DomainEvent[]): string {
  const state = initialState()
  log.forEach((event, index) => applyInPlace(state, event, { lsn: index + 1 }))
  return stateDigest(state)
}

describe('a leg of a fired list that comes back live', () => {
  test('the leg that fired its list by failing, reported by the venue after all, is canceled in that decision (list still open)', () => {
    const harness = Harness.funded()
    const { a, b } = firedByFailure(harness)
    const revived = lateNew(harness, a)
    expect(harness.eventTypes(revived)).toEqual(['inbox.report_accepted', 'order.unknown', 'order.send_acked', 'order.cancel_requested'])
    expect(cancelsOf(revived)).toEqual([[a, 'OCO_LEG_REVIVED']])
    expect(harness.order(a)).toMatchObject({ status: 'CancelRequested', cancelWanted: true })
    // Its cancel waits in Lane0 with B's; a second report about it asks nothing more.
    expect(harness.state.queues[0].get(a)).toBe('cancel')
    const again = harness.report(report(harness.order(a), { execId: 'n2', kind: 'new', venueOrderId: `v-${a}` }))
    expect(cancelsOf(again)).toEqual([])
    expect(harness.order(b).status).toBe('CancelRequested')
    expect(replayedDigest(harness.log)).toBe(stateDigest(harness.state))
  })

  test('after the list ended (its sibling canceled), the leg that comes back is canceled all the same', () => {
    const harness = Harness.funded()
    const { listId, a, b } = firedByFailure(harness)
    cancelAtVenue(harness, b)
    expect(harness.state.orderLists.lists.get(listId)?.endedAtMs).not.toBeNull()
    const revived = lateNew(harness, a)
    expect(cancelsOf(revived)).toEqual([[a, 'OCO_LEG_REVIVED']])
    expect(harness.order(a).status).toBe('CancelRequested')
    // Its cancel goes out and the venue confirms it: the leg has ended again, the list with it.
    cancelAtVenue(harness, a)
    expect(harness.state.orderLists.lists.get(listId)?.triggered).toMatchObject({ legOrderId: a, cause: 'ended' })
    expect(replayedDigest(harness.log)).toBe(stateDigest(harness.state))
  })

  test('a list beyond the newest ended lists kept is still known while the kernel holds its legs: its leg that comes back is canceled', () => {
    const harness = Harness.funded()
    const { listId, a, b } = firedByFailure(harness)
    cancelAtVenue(harness, b)
    // More lists end than are kept (each: a leg canceled before it was sent, the other with it).
    for (let index = 0; index < ORDER_LISTS_ENDED_KEPT_MAX; index++) harness.cancel(placeList(harness, `other-${index}`).a)
    expect(harness.state.orderLists.lists.has(listId)).toBe(true)
    expect(harness.state.orderLists.endedByLeg.get(a)).toBe(listId)
    const revived = lateNew(harness, a)
    expect(cancelsOf(revived)).toEqual([[a, 'OCO_LEG_REVIVED']])
    expect(replayedDigest(harness.log)).toBe(stateDigest(harness.state))
  })

  test('a sibling whose cancel its list asked already is not asked again when it comes back: the cancel it kept goes out', () => {
    const harness = Harness.funded()
    const { a, b } = placeList(harness, 'kept-cancel')
    for (const orderId of [a, b]) {
      harness.send(orderId)
      harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: `v-${orderId}` } })
    }
    const fired = harness.report(report(harness.order(a), { execId: 'fa', kind: 'fill', lastQty: d('0.04'), lastPrice: d('50500'), cumQty: d('0.04'), venueOrderId: `v-${a}` }))
    expect(cancelsOf(fired)).toEqual([[b, 'OCO_SIBLING_FILLED']])
    // B's cancel is answered unknown_order: B goes Unknown, its cancel still wanted; the read-back finds it open.
    harness.send(b, 'cancel')
    harness.cancelResult(b, { kind: 'rejected', reason: 'unknown_order' })
    expect(harness.order(b)).toMatchObject({ status: 'Unknown', cancelWanted: true })
    harness.nowMs += 5_000
    const venueOrder = { clientOrderId: harness.order(b).venueClientOrderId, venueOrderId: `v-${b}`, account: ACCOUNT, symbol: harness.order(b).symbol, side: 'sell' as const, qty: d('0.1'), cumQty: 0n, status: 'open' as const }
    const found = harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId: b, venueOrder, trades: [] })
    expect(cancelsOf(found)).toEqual([])
    expect(harness.order(b).status).toBe('CancelRequested')
    expect(harness.log.filter((event) => event.type === 'order.cancel_requested' && event.orderId === b)).toHaveLength(1)
  })

  test('the leg that fired its list by executing works on when it comes back: only its sibling is canceled', () => {
    const harness = Harness.funded()
    const { a, b } = placeList(harness, 'executing')
    for (const orderId of [a, b]) {
      harness.send(orderId)
      harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: `v-${orderId}` } })
    }
    harness.report(report(harness.order(a), { execId: 'fa', kind: 'fill', lastQty: d('0.04'), lastPrice: d('50500'), cumQty: d('0.04'), venueOrderId: `v-${a}` }))
    // A cancel report with more filled than booked: A goes Unknown (fills missed); the read-back finds it open.
    harness.report(report(harness.order(a), { execId: 'ca', kind: 'canceled', cumQty: d('0.05'), venueOrderId: `v-${a}` }))
    expect(harness.order(a).status).toBe('Unknown')
    harness.nowMs += 5_000
    const venueOrder = { clientOrderId: harness.order(a).venueClientOrderId, venueOrderId: `v-${a}`, account: ACCOUNT, symbol: harness.order(a).symbol, side: 'sell' as const, qty: d('0.1'), cumQty: d('0.04'), status: 'partially_filled' as const }
    const found = harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId: a, venueOrder, trades: [] })
    expect(cancelsOf(found)).toEqual([])
    expect(harness.order(a)).toMatchObject({ status: 'Partial', cancelWanted: false })
    expect(harness.order(b).cancelWanted).toBe(true)
  })

  test('a sibling that ended with no cancel asked and comes back is canceled (here: a torn tail cut its cancel, then the venue canceled it)', () => {
    const harness = Harness.funded()
    const { a, b } = placeList(harness, 'sibling')
    for (const orderId of [a, b]) {
      harness.send(orderId)
      harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: `v-${orderId}` } })
    }
    // A's fill and the list's firing kept, B's cancel cut.
    const fill = report(harness.order(a), { execId: 'fa', kind: 'fill', lastQty: d('0.04'), lastPrice: d('50500'), cumQty: d('0.04'), venueOrderId: `v-${a}` })
    const whole = decide(harness.state, { kind: 'venue_report', nowMs: harness.nowMs, report: fill })
    const cut = whole.events.findIndex((event) => event.type === 'order_list.triggered')
    for (const event of whole.events.slice(0, cut + 1)) {
      applyInPlace(harness.state, event, { lsn: harness.state.lastLsn + 1 })
      harness.log.push(event)
    }
    harness.report(report(harness.order(b), { execId: 'cb', kind: 'canceled', venueOrderId: `v-${b}` }))
    expect(harness.order(b)).toMatchObject({ status: 'Canceled', cancelWanted: false })
    // A cancel report showing fills egress missed: B goes Unknown, live as far as egress knows, and no cancel asked.
    const revived = harness.report(report(harness.order(b), { execId: 'cb2', kind: 'canceled', cumQty: d('0.02'), venueOrderId: `v-${b}` }))
    expect(cancelsOf(revived)).toEqual([[b, 'OCO_LEG_REVIVED']])
    expect(harness.order(b)).toMatchObject({ status: 'Unknown', cancelWanted: true })
  })
})
