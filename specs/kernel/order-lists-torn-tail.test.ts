/**
 * A torn log tail that kept a leg's event but cut its list's firing (src/kernel/order-lists/torn-lists.ts): the
 * start's bootstrap decision fires the list as the live decision would have, once, and a later start adds nothing.
 * The torn log is built by hand: a decision decided whole, then only a prefix of its events applied (what recovery
 * keeps of a batch written in part).
 */

import { describe, expect, test } from 'bun:test'
import { decodeEvent, encodeEvent, type DomainEvent } from '../../src/domain/events/index.ts'
import { applyInPlace, decide, type Decision, type KernelCommand } from '../../src/kernel/index.ts'
import { ACCOUNT, body, d, Harness, market, report, T0, trader } from './fixtures.ts'

/** A list of two sells resting at the venue (sent and acked). */
function openList(harness: Harness, key = 'torn-1'): { listId: string; a: string; b: string } {
  const legs = [body({ side: 'sell', qty: '0.1', price: '50500', client_order_id: undefined }), body({ side: 'sell', qty: '0.1', price: '49500', client_order_id: undefined })]
  const decision = harness.run({
    kind: 'place_list', nowMs: harness.nowMs, principal: trader, idempotencyKey: null, body: { type: 'oco', account: ACCOUNT, client_list_id: key, orders: legs },
    market: market(), live: { credentialPresent: true, environmentLive: true, haLeader: true }, configDigest: 'cfg-1', buildCommit: 'test',
  })
  if (decision.reply.kind !== 'list_accepted') throw new Error(`expected the list accepted, got ${JSON.stringify(decision.reply)}`)
  const [a, b] = decision.reply.orderIds as [string, string]
  for (const orderId of [a, b]) {
    harness.send(orderId)
    harness.placeResult(orderId, { kind: 'ok', value: { venueOrderId: `v-${orderId}` } })
  }
  return { listId: decision.reply.listId, a, b }
}

/** Decides `command` whole, then applies only its events up to and including the first `keptThrough` matches. */
function tornRun(harness: Harness, command: KernelCommand, keptThrough: (event: DomainEvent) => boolean): Decision {
  const decision = decide(harness.state, command)
  const cut = decision.events.findIndex(keptThrough)
  expect(cut).toBeGreaterThanOrEqual(0)
  expect(cut).toBeLessThan(decision.events.length - 1)
  for (const event of decision.events.slice(0, cut + 1)) {
    const decoded = decodeEvent(encodeEvent(event))
    applyInPlace(harness.state, decoded, { lsn: harness.state.lastLsn + 1 })
    harness.log.push(decoded)
  }
  return decision
}

function start(harness: Harness): Decision {
  harness.nowMs += 60_000
  return harness.run({ kind: 'bootstrap', nowMs: harness.nowMs })
}

const listEvents = (decision: Decision): [string, string | null, string | null][] =>
  decision.events
    .filter((event) => event.type === 'order_list.triggered' || event.type === 'order.cancel_requested' || event.type === 'order.canceled')
    .map((event) => [event.type, 'orderId' in event ? event.orderId : event.type === 'order_list.triggered' ? event.legOrderId : null, 'reason' in event ? event.reason : 'cause' in event ? event.cause : null])

describe('a torn tail that cut a list\'s firing', () => {
  test('a leg\'s fill kept, its trigger and the sibling\'s cancel cut: the start fires the list (cause fill) and cancels the sibling, once', () => {
    const harness = Harness.funded()
    const { listId, a, b } = openList(harness)
    const fill = report(harness.order(a), { execId: 'f1', kind: 'fill', lastQty: d('0.04'), lastPrice: d('50500'), cumQty: d('0.04') })
    const live = tornRun(harness, { kind: 'venue_report', nowMs: harness.nowMs, report: fill }, (event) => event.type === 'order.fill')
    // What the live decision had written after the fill, and the power cut lost.
    expect(listEvents(live)).toEqual([['order_list.triggered', a, 'fill'], ['order.cancel_requested', b, 'OCO_SIBLING_FILLED']])
    expect(harness.order(a).status).toBe('Partial')
    expect(harness.state.orderLists.lists.get(listId)?.triggered).toBeNull()

    const started = start(harness)
    expect(listEvents(started)).toEqual([['order_list.triggered', a, 'fill'], ['order.cancel_requested', b, 'OCO_SIBLING_FILLED']])
    expect(started.events.find((event) => event.type === 'order.cancel_requested')).toMatchObject({ principalId: trader.id, atMs: harness.nowMs })
    expect(harness.state.orderLists.lists.get(listId)?.triggered).toEqual({ legOrderId: a, cause: 'fill', atMs: harness.nowMs })
    expect(harness.order(b)).toMatchObject({ status: 'CancelRequested', cancelWanted: true })
    expect(harness.next()).toMatchObject({ orderId: b, kind: 'cancel', lane: 0 })
    // The next start (another crash) finds the list fired and its sibling's cancel asked: nothing more.
    expect(listEvents(start(harness))).toEqual([])
    expect(harness.log.filter((event) => event.type === 'order_list.triggered')).toHaveLength(1)
    expect(harness.log.filter((event) => event.type === 'order.cancel_requested' && event.orderId === b)).toHaveLength(1)
  })

  test("a user's cancel of a leg kept, the rest cut: the sibling is canceled as the list's (OCO_SIBLING_CANCELED)", () => {
    const harness = Harness.funded()
    const { listId, a, b } = openList(harness)
    tornRun(harness, { kind: 'cancel', nowMs: harness.nowMs, principal: trader, orderId: a, reason: 'USER_CANCEL' }, (event) => event.type === 'order.cancel_requested')
    expect(harness.order(a).cancelWanted).toBe(true)
    expect(listEvents(start(harness))).toEqual([['order_list.triggered', a, 'canceled'], ['order.cancel_requested', b, 'OCO_SIBLING_CANCELED']])
    expect(harness.state.orderLists.lists.get(listId)?.triggered?.cause).toBe('canceled')
  })

  test('the cut between the trigger and the sibling\'s cancel: the start asks for the cancel alone, with the recorded cause', () => {
    const harness = Harness.funded()
    const { listId, a, b } = openList(harness)
    const fill = report(harness.order(a), { execId: 'f1', kind: 'fill', lastQty: d('0.1'), lastPrice: d('50500'), cumQty: d('0.1') })
    tornRun(harness, { kind: 'venue_report', nowMs: harness.nowMs, report: fill }, (event) => event.type === 'order_list.triggered')
    expect(harness.state.orderLists.lists.get(listId)?.triggered).toEqual({ legOrderId: a, cause: 'fill', atMs: T0 })
    expect(harness.order(b).status).toBe('AckedOpen')
    expect(listEvents(start(harness))).toEqual([['order.cancel_requested', b, 'OCO_SIBLING_FILLED']])
    expect(listEvents(start(harness))).toEqual([])
  })

  test('a leg that came back live after its list ended, its cancel cut: the start asks it (OCO_LEG_REVIVED), once', () => {
    const harness = Harness.funded()
    const legs = [body({ side: 'sell', qty: '0.1', price: '50500', client_order_id: undefined }), body({ side: 'sell', qty: '0.1', price: '49500', client_order_id: undefined })]
    const placed = harness.run({
      kind: 'place_list', nowMs: harness.nowMs, principal: trader, idempotencyKey: null, body: { type: 'oco', account: ACCOUNT, client_list_id: 'revived', orders: legs },
      market: market(), live: { credentialPresent: true, environmentLive: true, haLeader: true }, configDigest: 'cfg-1', buildCommit: 'test',
    })
    if (placed.reply.kind !== 'list_accepted') throw new Error('expected list_accepted')
    const { listId } = placed.reply
    const [a, b] = placed.reply.orderIds as [string, string]
    // A's place times out and A is read back not found (Failed): the list fires and B is canceled at the venue.
    harness.send(b)
    harness.placeResult(b, { kind: 'ok', value: { venueOrderId: 'v-b' } })
    harness.send(a)
    harness.placeResult(a, { kind: 'unknown', reason: 'timeout' })
    harness.nowMs += 5_000
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId: a, venueOrder: null, trades: [] })
    harness.send(b, 'cancel')
    harness.cancelResult(b, { kind: 'ok', value: { accepted: true } })
    harness.report(report(harness.order(b), { execId: 'cb', kind: 'canceled', venueOrderId: 'v-b' }))
    expect(harness.state.orderLists.lists.get(listId)?.endedAtMs).not.toBeNull()
    // The venue reports A after all: A's return kept, its cancel cut.
    const late = report(harness.order(a), { execId: 'na', kind: 'new', venueOrderId: 'v-a' })
    const live = tornRun(harness, { kind: 'venue_report', nowMs: harness.nowMs, report: late }, (event) => event.type === 'order.send_acked')
    expect(listEvents(live)).toEqual([['order.cancel_requested', a, 'OCO_LEG_REVIVED']])
    expect(harness.order(a)).toMatchObject({ status: 'AckedOpen', cancelWanted: false })
    expect(listEvents(start(harness))).toEqual([['order.cancel_requested', a, 'OCO_LEG_REVIVED']])
    expect(harness.order(a).status).toBe('CancelRequested')
    expect(listEvents(start(harness))).toEqual([])
  })

  test("both legs executed, the fill of the second kept and the cancel of the first leg's rest cut: the start asks that cancel, once", () => {
    // The list fired on A's partial fill and asked B's cancel; B had filled at the venue already. B's fill and the
    // cancel of A's rest (follow-ups.ts executedAfterFiring) are one decision: a cut between them left A working on.
    const harness = Harness.funded()
    const { listId, a, b } = openList(harness)
    harness.report(report(harness.order(a), { execId: 'fa', kind: 'fill', lastQty: d('0.04'), lastPrice: d('50500'), cumQty: d('0.04') }))
    const fill = report(harness.order(b), { execId: 'fb', kind: 'fill', lastQty: d('0.1'), lastPrice: d('49500'), cumQty: d('0.1') })
    const live = tornRun(harness, { kind: 'venue_report', nowMs: harness.nowMs, report: fill }, (event) => event.type === 'order.fill')
    expect(listEvents(live)).toEqual([['order.cancel_requested', a, 'OCO_SIBLING_FILLED']])
    expect(harness.order(a)).toMatchObject({ status: 'Partial', cancelWanted: false })
    expect(harness.order(b).status).toBe('Filled')

    expect(listEvents(start(harness))).toEqual([['order.cancel_requested', a, 'OCO_SIBLING_FILLED']])
    expect(harness.order(a)).toMatchObject({ status: 'CancelRequested', cancelWanted: true })
    expect(harness.state.orderLists.lists.get(listId)?.triggered).toMatchObject({ legOrderId: a, cause: 'fill' })
    expect(listEvents(start(harness))).toEqual([])
  })

  test('a whole log: the start touches no list, fired or not', () => {
    const harness = Harness.funded()
    openList(harness)
    const fired = openList(harness, 'torn-2')
    harness.report(report(harness.order(fired.a), { execId: 'f1', kind: 'fill', lastQty: d('0.1'), lastPrice: d('50500'), cumQty: d('0.1') }))
    // Both legs of a third executed in a race, the first's rest canceled live: nothing to repair either.
    const raced = openList(harness, 'torn-3')
    harness.report(report(harness.order(raced.a), { execId: 'r1', kind: 'fill', lastQty: d('0.04'), lastPrice: d('50500'), cumQty: d('0.04') }))
    harness.report(report(harness.order(raced.b), { execId: 'r2', kind: 'fill', lastQty: d('0.1'), lastPrice: d('49500'), cumQty: d('0.1') }))
    expect(harness.order(raced.a).cancelWanted).toBe(true)
    expect(listEvents(start(harness))).toEqual([])
  })
})
