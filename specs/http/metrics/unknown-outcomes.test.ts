/**
 * egress_reconcile_outcomes_total counts every answer of reconciliation, the ones that settle nothing yet included:
 * `order.reconcile_deferred` and `order.overfill_recheck` (the venue reports the order filled past its quantity: the
 * order stays Unknown and is asked again). And egress_order_unknown_dwell_seconds's per-order entries cannot stay for
 * good: every way out of Unknown the state machine has (kernel/state-machine.ts, read through the kernel's own
 * event → transition mapping) is an event the tracker ends the entry on. Unknown is never terminal, so the kernel
 * does not retire an Unknown order (kernel/retention.ts) behind the tracker's back; an order that stays Unknown keeps
 * its entry, which is what it measures, and the entries are bounded in count (trackedOrdersMax).
 */

import { expect, test } from 'bun:test'
import type { DomainEvent } from '../../../src/domain/events/index.ts'
import type { Order } from '../../../src/domain/orders.ts'
import { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import { transitionOf } from '../../../src/kernel/event-transition.ts'
import { TRANSITIONS, type TransitionName } from '../../../src/kernel/state-machine.ts'
import { event, placedAndAcked, sample } from './observed.ts'

const UNKNOWN = { reason: 'VENUE_OUTCOME_UNKNOWN', detail: 'timeout' }

test('an overfill answer is counted in egress_reconcile_outcomes_total as deferred, by its reason', () => {
  const metrics = new GatewayMetrics()
  metrics.observe([
    ...placedAndAcked('o-1', 1_000),
    event('order.unknown', 'o-1', 1_100, UNKNOWN),
    event('order.overfill_recheck', 'o-1', 1_200, { venueCumQty: 12n, retryAtMs: 2_200 }),
    event('order.overfill_recheck', 'o-1', 2_200, { venueCumQty: 12n, retryAtMs: 4_200 }),
    event('order.reconcile_deferred', 'o-1', 4_200, { retryAtMs: 5_200 }),
  ])
  expect(sample(metrics, 'egress_reconcile_outcomes_total', { state: 'deferred', reason: 'FILL_OVERFILL' })).toBe(2)
  expect(sample(metrics, 'egress_reconcile_outcomes_total', { state: 'deferred', reason: 'RECONCILE_DEFERRED' })).toBe(1)
})

/** One event for each way an order event can move an order; transitionOf says which transition each performs. */
const CANDIDATES: DomainEvent[] = [
  event('order.send_acked', 'o-1', 0, { venueOrderId: 'v-1' }),
  event('order.venue_rejected', 'o-1', 0, { venueReason: 'x' }),
  event('order.fill', 'o-1', 0, { cumQty: 4n }),
  event('order.fill', 'o-1', 0, { cumQty: 10n }),
  event('order.canceled', 'o-1', 0, { reason: 'CANCELED_BY_USER', source: 'venue' }),
  event('order.expired', 'o-1', 0),
  ...(['AckedOpen', 'Partial', 'Filled', 'Canceled', 'Rejected', 'Expired', 'Failed', 'CancelRequested'] as const).map((to) =>
    event('order.reconciled', 'o-1', 0, { to, reason: 'RECONCILE_CONVERGED' }),
  ),
]

/** `candidate` for `orderId` at `atMs`. */
function at(candidate: DomainEvent, orderId: string, atMs: number): DomainEvent {
  return { ...candidate, orderId, atMs } as DomainEvent
}

test('every way out of Unknown ends the order\'s dwell entry, with one dwell sample', () => {
  const unknownOrder = { orderId: 'o-1', status: 'Unknown', qty: 10n } as unknown as Order
  const exits = (Object.keys(TRANSITIONS) as TransitionName[]).filter((name) => {
    const to = TRANSITIONS[name].Unknown
    return to !== undefined && to !== 'Unknown'
  })
  expect(exits.length).toBeGreaterThan(0)
  const covered = new Set<TransitionName>()
  for (const candidate of CANDIDATES) {
    const name = transitionOf(candidate, unknownOrder)
    if (name === null || !exits.includes(name)) continue
    covered.add(name)
    // The bound is 1: were the entry kept, a second order going Unknown would not be tracked.
    const metrics = new GatewayMetrics({ trackedOrdersMax: 1 })
    metrics.observe([event('order.unknown', 'o-1', 1_000, UNKNOWN), at(candidate, 'o-1', 1_500)])
    expect({ exit: candidate.type, dwells: sample(metrics, 'egress_order_unknown_dwell_seconds_count') }).toEqual({ exit: candidate.type, dwells: 1 })
    metrics.observe([event('order.unknown', 'o-2', 2_000, UNKNOWN), at(candidate, 'o-2', 2_250)])
    expect({ exit: candidate.type, dwells: sample(metrics, 'egress_order_unknown_dwell_seconds_count') }).toEqual({ exit: candidate.type, dwells: 2 })
    expect(sample(metrics, 'egress_order_unknown_dwell_seconds_sum')).toBe(0.75)
  }
  // A new way out of Unknown needs a candidate here, and the tracker must end its entry on it.
  expect([...covered].sort()).toEqual([...exits].sort())
})
