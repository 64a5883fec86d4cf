/**
 * The simulation's oco-lists invariant (oco-checks.ts) on a leg that comes back live after its list fired: the sim
 * venue has no fault that brings an ended order back (it never applies a place after a read-back found it absent),
 * so its seeds do not reach this path; these drive the kernel there and hold the checks to it.
 */

import { describe, expect, test } from 'bun:test'
import { decide, applyInPlace } from '../../src/kernel/index.ts'
import { ACCOUNT, body, Harness, market, report, trader } from '../kernel/fixtures.ts'
import { checkOrderListsSettled, checkOrderListState } from './oco-checks.ts'

/** A list whose leg A failed (found not at the venue), firing it; B canceled at the venue, so the list ended. */
function endedByFailure(harness: Harness): { a: string; b: string } {
  const legs = [body({ side: 'sell', qty: '0.1', price: '50500', client_order_id: undefined }), body({ side: 'sell', qty: '0.1', price: '49500', client_order_id: undefined })]
  const placed = harness.run({
    kind: 'place_list', nowMs: harness.nowMs, principal: trader, idempotencyKey: null, body: { type: 'oco', account: ACCOUNT, client_list_id: 'checks', orders: legs },
    market: market(), live: { credentialPresent: true, environmentLive: true, haLeader: true }, configDigest: 'cfg-1', buildCommit: 'test',
  })
  if (placed.reply.kind !== 'list_accepted') throw new Error('expected list_accepted')
  const [a, b] = placed.reply.orderIds as [string, string]
  harness.send(b)
  harness.placeResult(b, { kind: 'ok', value: { venueOrderId: 'v-b' } })
  harness.send(a)
  harness.placeResult(a, { kind: 'unknown', reason: 'timeout' })
  harness.nowMs += 5_000
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId: a, venueOrder: null, trades: [] })
  harness.send(b, 'cancel')
  harness.cancelResult(b, { kind: 'ok', value: { accepted: true } })
  harness.report(report(harness.order(b), { execId: 'cb', kind: 'canceled', venueOrderId: 'v-b' }))
  return { a, b }
}

describe('oco-lists on a leg that comes back live', () => {
  test('the leg that fired its list by failing, reported by the venue after its list ended: being canceled, then ended', () => {
    const harness = Harness.funded()
    const { a } = endedByFailure(harness)
    expect(checkOrderListState(harness.state)).toEqual([])
    harness.report(report(harness.order(a), { execId: 'na', kind: 'new', venueOrderId: 'v-a' }))
    expect(checkOrderListState(harness.state)).toEqual([])
    harness.send(a, 'cancel')
    harness.cancelResult(a, { kind: 'ok', value: { accepted: true } })
    harness.report(report(harness.order(a), { execId: 'ca', kind: 'canceled', venueOrderId: 'v-a' }))
    expect(checkOrderListState(harness.state)).toEqual([])
    expect(checkOrderListsSettled(harness.state).violations).toEqual([])
  })

  test('the same leg left live with no cancel asked is caught, at every step and after convergence', () => {
    const harness = Harness.funded()
    const { a } = endedByFailure(harness)
    // The decision as it would be without its cancel of the leg.
    const decision = decide(harness.state, { kind: 'venue_report', nowMs: harness.nowMs, report: report(harness.order(a), { execId: 'na', kind: 'new', venueOrderId: 'v-a' }) })
    for (const event of decision.events) if (event.type !== 'order.cancel_requested') applyInPlace(harness.state, event, { lsn: harness.state.lastLsn + 1 })
    expect(harness.order(a).status).toBe('AckedOpen')
    expect(checkOrderListState(harness.state).map((violation) => violation.message)).toEqual([expect.stringContaining(`its leg ${a} is AckedOpen with no cancel asked`)])
    expect(checkOrderListsSettled(harness.state).violations.map((violation) => violation.message)).toEqual([expect.stringContaining(`its leg ${a} is still AckedOpen`)])
  })
})
