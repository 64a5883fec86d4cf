import { describe, expect, test } from 'bun:test'
import { GUARD_NAMES } from '../../src/domain/guards.ts'
import type { EventOf } from '../../src/domain/events/index.ts'
import { currentClientOrderId } from '../../src/domain/orders.ts'
import { heldFor, replay, stateDigest } from '../../src/kernel/index.ts'
import type { VenueOrder } from '../../src/venues/adapter.ts'
import { config, d, Harness, market, ops, paperFacts, report, T0, trader } from './fixtures.ts'

const oldCost = d('5000') + d('5') // 0.1 BTC × 50000 + 10 bps
const doubleCost = d('10000') + d('10') // 0.2 BTC × 50000 + 10 bps

/** An open order with amend 1 accepted and sent: the venue call is in flight. */
function amendInFlight(harness: Harness, change: { qty?: string; price?: string } = { qty: '0.2' }): string {
  const orderId = harness.openOrder()
  expect(harness.amend(orderId, change).reply.kind).toBe('amend_accepted')
  harness.send(orderId, 'amend')
  return orderId
}

function venueOrder(harness: Harness, orderId: string, overrides: Partial<VenueOrder>): VenueOrder {
  const order = harness.order(orderId)
  return { clientOrderId: order.venueClientOrderId, venueOrderId: 'v-9', account: order.accountId, symbol: order.symbol, side: order.side, qty: order.qty, price: d('50000'), cumQty: 0n, status: 'open', ...overrides }
}

function reconcile(harness: Harness, orderId: string, venue: VenueOrder | null) {
  return harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: venue, trades: [] })
}

function rejection(harness: Harness, orderId: string, change: { qty?: string; price?: string }, command: Parameters<Harness['amend']>[2] = {}) {
  const decision = harness.amend(orderId, change, command)
  expect(decision.reply.kind).toBe('rejected')
  const event = decision.events[0] as EventOf<'order.amend_rejected'>
  expect(event.type).toBe('order.amend_rejected')
  return event
}

describe('amend (replace)', () => {
  test('an amend of an open order passes all seven guards, waits in Lane2 and holds the larger worst case', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const decision = harness.amend(orderId, { qty: '0.2' })
    expect(decision.reply).toEqual({ kind: 'amend_accepted', orderId, amendId: 1, duplicate: false })
    const event = decision.events[0] as EventOf<'order.amend_requested'>
    expect(event).toMatchObject({ type: 'order.amend_requested', amendId: 1, amendClientOrderId: `eg-${orderId}.a1`, qty: d('0.2'), price: d('50000'), reservationTotal: doubleCost })
    expect(event.decision.guards.map((g) => g.guard)).toEqual([...GUARD_NAMES])
    expect(harness.reserved('USD')).toBe(doubleCost)
    expect(harness.order(orderId).qty).toBe(d('0.1')) // unchanged until the venue replaces it
    expect(harness.next()).toMatchObject({ lane: 2, kind: 'amend', orderId })
  })

  test('sending an amend runs the gate and names the order by the id the venue knows it by', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    const sent = harness.log.at(-1) as EventOf<'order.amend_send_requested'>
    expect(sent).toMatchObject({ type: 'order.amend_send_requested', amendId: 1, attempt: 1, amendClientOrderId: `eg-${orderId}.a1`, origClientOrderId: `eg-${orderId}`, qty: d('0.2') })
    expect(sent.gate.action).toBe('amend')
    expect(sent.gate.checks.every((check) => check.applies)).toBe(true)
    expect(harness.state.inFlight.get(orderId)).toEqual({ orderId, action: 'amend' })
    expect(harness.next()).toBeNull()
  })

  test('the venue ok applies the amend; the later replaced report finds it done; cancels then name the amend id', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    const result = harness.amendResult(orderId, { kind: 'ok', value: { accepted: true } })
    expect(harness.eventTypes(result)).toEqual(['order.amended', 'order.limit_loosest', 'order.call_completed'])
    const order = harness.order(orderId)
    expect(order).toMatchObject({ status: 'AckedOpen', qty: d('0.2'), amend: null, clientIdChain: [`eg-${orderId}`, `eg-${orderId}.a1`] })
    expect(currentClientOrderId(order)).toBe(`eg-${orderId}.a1`)
    expect(harness.reserved('USD')).toBe(doubleCost)
    const replaced = report(order, { execId: 'r1', kind: 'replaced', clientOrderId: `eg-${orderId}.a1`, origClientOrderId: `eg-${orderId}` })
    expect(harness.eventTypes(harness.report(replaced))).toEqual(['inbox.report_accepted'])
    harness.cancel(orderId)
    const cancelSent = harness.send(orderId, 'cancel').events[0] as EventOf<'order.cancel_send_requested'>
    expect(cancelSent.origClientOrderId).toBe(`eg-${orderId}.a1`)
  })

  test('the replaced report applies the amend before the adapter answers; the answer then only frees the slot', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness, { price: '49000' })
    const order = harness.order(orderId)
    const replaced = report(order, { execId: 'r1', kind: 'replaced', clientOrderId: `eg-${orderId}.a1`, origClientOrderId: `eg-${orderId}` })
    expect(harness.eventTypes(harness.report(replaced))).toEqual(['inbox.report_accepted', 'order.amended', 'order.limit_loosest'])
    expect(harness.order(orderId).price).toBe(d('49000'))
    expect(harness.eventTypes(harness.amendResult(orderId, { kind: 'ok', value: { accepted: true } }))).toEqual(['order.call_completed'])
    expect(harness.reserved('USD')).toBe(d('4900') + d('4.9'))
  })

  test('a smaller amend keeps the old worst case until the venue confirms, then releases to the new one', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.amend(orderId, { qty: '0.05' })
    expect(harness.reserved('USD')).toBe(oldCost)
    harness.send(orderId, 'amend')
    harness.amendResult(orderId, { kind: 'ok', value: { accepted: true } })
    expect(harness.reserved('USD')).toBe(d('2500') + d('2.5'))
  })

  test('a venue reject fails the amend: the order stands unchanged and the extra reservation is released', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    const decision = harness.amendResult(orderId, { kind: 'rejected', reason: 'too_late_to_amend' })
    expect(harness.eventTypes(decision)).toEqual(['order.amend_failed', 'order.call_completed'])
    expect((decision.events[0] as EventOf<'order.amend_failed'>).reason).toBe('VENUE_AMEND_REJECTED')
    expect(harness.order(orderId)).toMatchObject({ status: 'AckedOpen', qty: d('0.1'), amend: { stage: 'failed' } })
    expect(harness.reserved('USD')).toBe(oldCost)
    // The venue's reject report under the amend id arrives after the answer: nothing more to do.
    const rejectReport = report(harness.order(orderId), { execId: 'cr1', kind: 'cancel_rejected', clientOrderId: `eg-${orderId}.a1`, origClientOrderId: `eg-${orderId}`, reason: 'too_late_to_amend' })
    expect(harness.eventTypes(harness.report(rejectReport))).toEqual(['inbox.report_accepted'])
    // A failed amend does not block the next one, which takes the next number.
    expect(harness.amend(orderId, { qty: '0.15' }).reply).toMatchObject({ kind: 'amend_accepted', amendId: 2 })
  })

  test('a reject report under the amend id fails the amend even before the adapter answers', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    const rejectReport = report(harness.order(orderId), { execId: 'cr1', kind: 'cancel_rejected', clientOrderId: `eg-${orderId}.a1`, origClientOrderId: `eg-${orderId}`, reason: 'invalid_price' })
    expect(harness.eventTypes(harness.report(rejectReport))).toEqual(['inbox.report_accepted', 'order.amend_failed'])
    expect(harness.order(orderId).status).toBe('AckedOpen')
    expect(harness.eventTypes(harness.amendResult(orderId, { kind: 'rejected', reason: 'invalid_price' }))).toEqual(['order.call_completed'])
  })

  test('an amend of an order that is not resting open at the venue is refused with ORDER_NOT_AMENDABLE and no record', () => {
    const harness = Harness.funded()
    const enqueued = harness.placedId({ client_order_id: 'q' })
    const filled = harness.openOrder({ client_order_id: 'f' })
    harness.report(report(harness.order(filled), { execId: 'f1', kind: 'fill', lastQty: d('0.1'), lastPrice: d('50000'), cumQty: d('0.1') }))
    const unknown = harness.placedId({ client_order_id: 'u' })
    harness.send(unknown)
    harness.placeResult(unknown, { kind: 'unknown', reason: 'timeout' })
    for (const orderId of [enqueued, filled, unknown]) {
      const decision = harness.amend(orderId, { qty: '0.05' })
      expect(decision.reply).toMatchObject({ kind: 'refused', reason: 'ORDER_NOT_AMENDABLE' })
      expect(decision.events).toEqual([])
    }
    expect(harness.amend('nope', { qty: '1' }).reply).toMatchObject({ kind: 'refused', reason: 'ORDER_NOT_FOUND' })
    expect(harness.amend(filled, { qty: '1' }, { principal: { ...trader, accounts: ['acct-2'] } }).reply).toMatchObject({ kind: 'refused', reason: 'ACCOUNT_NOT_PERMITTED' })
  })

  const guardCases: [string, string, { qty?: string; price?: string }, Parameters<Harness['amend']>[2]][] = [
    ['syntax', 'SYNTAX_INVALID', {}, {}],
    ['policy', 'PERMISSION_DENIED', { qty: '0.2' }, { principal: ops }],
    ['policy', 'ORDER_NOTIONAL_LIMIT', { qty: '25' }, {}],
    ['data_health', 'DATA_STALE', { qty: '0.2' }, { market: market('50000', { observedAtMs: T0 - 60_000 }) }],
    ['data_health', 'PRICE_BAND', { price: '53000' }, {}],
    ['reservation', 'INSUFFICIENT_FUNDS', { qty: '19' }, {}],
    ['capability', 'QTY_BELOW_MIN', { qty: '0.00005' }, {}],
  ]
  for (const [guard, reason, change, command] of guardCases) {
    test(`the ${guard} guard refuses an amend with ${reason} and records why; the order is unchanged`, () => {
      const harness = Harness.funded()
      const orderId = harness.openOrder()
      const before = structuredClone(harness.order(orderId))
      const event = rejection(harness, orderId, change, command)
      expect(event).toMatchObject({ reason, guard })
      expect(event.decision.guards.at(-1)).toMatchObject({ guard, outcome: 'fail', reason })
      expect(harness.order(orderId)).toEqual(before)
      expect(harness.reserved('USD')).toBe(oldCost)
    })
  }

  test('an amend below the filled quantity is refused with AMEND_QTY_BELOW_FILLED', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.report(report(harness.order(orderId), { execId: 'f1', kind: 'fill', lastQty: d('0.06'), lastPrice: d('50000'), cumQty: d('0.06') }))
    expect(rejection(harness, orderId, { qty: '0.05' }).reason).toBe('AMEND_QTY_BELOW_FILLED')
  })

  test('HALT refuses new amends at the mode guard and fails one already waiting in Lane2 (kill-switch-queued-amend.test.ts)', () => {
    const harness = Harness.funded()
    const waiting = harness.openOrder({ client_order_id: 'w' })
    const other = harness.openOrder({ client_order_id: 'o' })
    harness.amend(waiting, { qty: '0.2' })
    harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'HALT', note: 'test' })
    expect(harness.next()).toBeNull()
    expect(rejection(harness, other, { qty: '0.2' }).reason).toBe('MODE_HALTED')
    expect(harness.order(waiting)).toMatchObject({ qty: d('0.1'), amend: { stage: 'failed' }, lastReason: 'KILL_SWITCH_HALT' })
    expect(harness.send(waiting, 'amend').reply).toMatchObject({ kind: 'refused', reason: 'TRANSITION_REFUSED' })
    harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'RESUME', note: 'test' })
    expect(harness.next()).toBeNull()
  })

  test('an amend to a new lane-full Lane2 is shed with LANE_FULL', () => {
    const harness = Harness.funded({ config: config({ params: { lane2DepthMax: 1 } }) })
    const orderId = harness.openOrder()
    harness.placedId({ client_order_id: 'waiting' })
    expect(rejection(harness, orderId, { qty: '0.2' }).reason).toBe('LANE_FULL')
  })

  test('one amend at a time: a repeat is a duplicate, a different one is AMEND_PENDING, no change is a no-op', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    expect(harness.amend(orderId, { qty: '0.1', price: '50000' })).toEqual({ events: [], reply: { kind: 'done' } })
    harness.amend(orderId, { qty: '0.2' })
    expect(harness.amend(orderId, { qty: '0.2' })).toEqual({ events: [], reply: { kind: 'amend_accepted', orderId, amendId: 1, duplicate: true } })
    expect(harness.amend(orderId, { qty: '0.3' }).reply).toMatchObject({ kind: 'refused', reason: 'AMEND_PENDING' })
  })

  test('a retryable answer sends the amend back to Lane2 after the retry-after, with the same amend id', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    const decision = harness.amendResult(orderId, { kind: 'retryable', reason: 'rate_limited', retryAfterMs: 500 })
    expect(harness.eventTypes(decision)).toEqual(['order.send_retry', 'order.call_completed'])
    expect(harness.next()).toBeNull()
    harness.nowMs += 500
    expect(harness.next()).toMatchObject({ kind: 'amend', lane: 2 })
    const again = harness.send(orderId, 'amend').events[0] as EventOf<'order.amend_send_requested'>
    expect(again).toMatchObject({ attempt: 2, amendClientOrderId: `eg-${orderId}.a1` })
  })

  test('a cancel supersedes an amend still waiting in Lane2 and releases its extra reservation', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.amend(orderId, { qty: '0.2' })
    const decision = harness.cancel(orderId)
    expect(harness.eventTypes(decision)).toEqual(['order.amend_failed', 'order.cancel_requested'])
    expect((decision.events[0] as EventOf<'order.amend_failed'>).reason).toBe('AMEND_SUPERSEDED')
    expect(harness.reserved('USD')).toBe(oldCost)
    expect(harness.next()).toMatchObject({ lane: 0, kind: 'cancel' })
  })

  test('a cancel during an amend in flight waits for the slot; a throttled amend is then dropped, not retried', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    harness.cancel(orderId)
    expect(harness.next()).toBeNull() // the slot is busy with the amend
    const decision = harness.amendResult(orderId, { kind: 'retryable', reason: 'rate_limited', retryAfterMs: 500 })
    expect(harness.eventTypes(decision)).toEqual(['order.amend_failed', 'order.call_completed'])
    expect(harness.next()).toMatchObject({ kind: 'cancel', lane: 0 })
  })

  test('a gate that blocks an amend fails it and leaves the order as it was', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.amend(orderId, { qty: '0.2' })
    harness.venueHealth('CRITICAL')
    const decision = harness.send(orderId, 'amend', paperFacts)
    expect(harness.eventTypes(decision)).toEqual(['order.send_blocked', 'order.amend_failed'])
    expect(harness.order(orderId).status).toBe('AckedOpen')
    expect(harness.reserved('USD')).toBe(oldCost)
    expect(harness.state.inFlight.size).toBe(0)
  })

  test('an unknown amend outcome makes the order Unknown with the worst case held; the venue knowing the amend id applies it', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    harness.amendResult(orderId, { kind: 'unknown', reason: 'timeout' })
    expect(harness.order(orderId).status).toBe('Unknown')
    expect(harness.reserved('USD')).toBe(doubleCost)
    const decision = reconcile(harness, orderId, venueOrder(harness, orderId, { clientOrderId: `eg-${orderId}.a1`, qty: d('0.2') }))
    expect(harness.eventTypes(decision)).toEqual(['order.amended', 'order.limit_loosest', 'order.reconciled'])
    expect(harness.order(orderId)).toMatchObject({ status: 'AckedOpen', qty: d('0.2'), amend: null })
  })

  test('an unknown amend the venue shows without: deferred within the grace time, then failed and the order converges', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    harness.amendResult(orderId, { kind: 'unknown', reason: 'timeout' })
    harness.nowMs += 1_000
    expect(harness.eventTypes(reconcile(harness, orderId, venueOrder(harness, orderId, {})))).toEqual(['order.reconcile_deferred'])
    expect(harness.order(orderId).status).toBe('Unknown')
    harness.nowMs += 5_000
    const decision = reconcile(harness, orderId, venueOrder(harness, orderId, {}))
    expect(harness.eventTypes(decision)).toEqual(['order.amend_failed', 'order.reconciled'])
    expect((decision.events[0] as EventOf<'order.amend_failed'>).reason).toBe('AMEND_NOT_APPLIED')
    expect(harness.order(orderId)).toMatchObject({ status: 'AckedOpen', qty: d('0.1') })
    expect(harness.reserved('USD')).toBe(oldCost)
  })

  test('the venue showing the old values, read within the grace time but answered after it, does not fail the amend', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    harness.amendResult(orderId, { kind: 'unknown', reason: 'timeout' })
    const askedAtMs = harness.nowMs + 1_000
    harness.nowMs += 6_000
    const decision = harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs, orderId, venueOrder: venueOrder(harness, orderId, {}), trades: [] })
    expect(harness.eventTypes(decision)).toEqual(['order.reconcile_deferred'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Unknown', amend: { stage: 'sent' } })
  })

  test('the venue answering the amend with duplicate_client_order_id means it already has the amend: Unknown, not a reject', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    const decision = harness.amendResult(orderId, { kind: 'rejected', reason: 'duplicate_client_order_id' })
    expect(harness.eventTypes(decision)).toEqual(['order.unknown', 'order.call_completed'])
    expect(harness.order(orderId).amend?.stage).toBe('sent')
  })

  test('the venue answering the amend with unknown_order fails the amend but is no proof the order is gone', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    const decision = harness.amendResult(orderId, { kind: 'rejected', reason: 'unknown_order' })
    expect(harness.eventTypes(decision)).toEqual(['order.amend_failed', 'order.unknown', 'order.call_completed'])
    expect(harness.order(orderId).status).toBe('Unknown')
  })

  test('bootstrap makes an order whose amend was in flight Unknown', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    const decision = harness.run({ kind: 'bootstrap', nowMs: harness.nowMs })
    expect(harness.eventTypes(decision)).toEqual(['order.unknown', 'order.call_completed'])
    expect(harness.state.inFlight.size).toBe(0)
  })
})

describe('fills racing an amend', () => {
  test('a fill under the old id before the amend lands is applied by its own quantity, then the amend applies on top', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    harness.report(report(harness.order(orderId), { execId: 'f1', kind: 'fill', lastQty: d('0.05'), lastPrice: d('50000'), cumQty: d('0.05') }))
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', cumQty: d('0.05') })
    // Held: the larger of the old order's unfilled half and the amend's unfilled three quarters.
    expect(harness.reserved('USD')).toBe(d('7507.5'))
    harness.amendResult(orderId, { kind: 'ok', value: { accepted: true } })
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', qty: d('0.2'), cumQty: d('0.05') })
    expect(harness.reserved('USD')).toBe(d('7507.5'))
    expect(heldFor(harness.order(orderId))).toBe(harness.order(orderId).reservation.remaining)
  })

  test('a fill under the amend id before the replaced report proves the replace: the amend applies first, so it is no overfill', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    const fill = report(harness.order(orderId), { execId: 'f1', kind: 'fill', clientOrderId: `eg-${orderId}.a1`, lastQty: d('0.15'), lastPrice: d('50000'), cumQty: d('0.15') })
    const decision = harness.report(fill)
    expect(harness.eventTypes(decision)).toEqual(['inbox.report_accepted', 'order.amended', 'order.limit_loosest', 'order.fill'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', qty: d('0.2'), cumQty: d('0.15') })
    const replaced = report(harness.order(orderId), { execId: 'r1', kind: 'replaced', clientOrderId: `eg-${orderId}.a1`, origClientOrderId: `eg-${orderId}` })
    expect(harness.eventTypes(harness.report(replaced))).toEqual(['inbox.report_accepted'])
    expect(harness.eventTypes(harness.amendResult(orderId, { kind: 'ok', value: { accepted: true } }))).toEqual(['order.call_completed'])
  })

  test('a fill under the old id that only the amended quantity can hold applies the amend first', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    const fill = report(harness.order(orderId), { execId: 'f1', kind: 'fill', lastQty: d('0.2'), lastPrice: d('50000'), cumQty: d('0.2') })
    expect(harness.eventTypes(harness.report(fill))).toEqual(['inbox.report_accepted', 'order.amended', 'order.limit_loosest', 'order.fill'])
    expect(harness.order(orderId)).toMatchObject({ status: 'Filled', cumQty: d('0.2') })
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('a fill completing the old quantity ends the order; the amend the venue then refuses adds nothing and the slot is freed', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness, { qty: '0.05' })
    harness.report(report(harness.order(orderId), { execId: 'f1', kind: 'fill', lastQty: d('0.1'), lastPrice: d('50000'), cumQty: d('0.1') }))
    expect(harness.order(orderId).status).toBe('Filled')
    expect(harness.reserved('USD')).toBe(0n)
    const decision = harness.amendResult(orderId, { kind: 'rejected', reason: 'too_late_to_amend' })
    expect(harness.eventTypes(decision)).toEqual(['order.amend_failed', 'order.call_completed'])
    expect(harness.state.inFlight.size).toBe(0)
    expect(harness.reserved('USD')).toBe(0n)
  })

  test('replaying the log of an amend scenario reproduces the live state, digest for digest', () => {
    const harness = Harness.funded()
    const orderId = amendInFlight(harness)
    harness.report(report(harness.order(orderId), { execId: 'f1', kind: 'fill', lastQty: d('0.05'), lastPrice: d('50000'), cumQty: d('0.05') }))
    harness.amendResult(orderId, { kind: 'ok', value: { accepted: true } })
    harness.amend(orderId, { price: '49900' })
    harness.send(orderId, 'amend')
    harness.amendResult(orderId, { kind: 'unknown', reason: 'timeout' })
    expect(stateDigest(replay(harness.log))).toBe(stateDigest(harness.state))
  })
})
