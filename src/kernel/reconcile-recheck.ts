/**
 * An Unknown order the venue answers without settling it — "not found" past the grace while its fills prove the venue
 * had it, or a state the order cannot take — stays Unknown and is asked again. Asked every `reconcileRecheckMs` for
 * good, one such order wrote a deferral and cost two venue calls a second (86,400 of each a day at the default 1 s).
 * Now each repeat waits twice as long as the one before, from `reconcileRecheckMs` up to RECONCILE_RECHECK_MS_MAX (the
 * overfill recheck's bound, overfill-recheck.ts): about 20 questions an hour. The order is never given up: it stays
 * Unknown, in the Unknown gauges (egress_orders_unknown, egress_orders_unknown_oldest_seconds) and its deferrals in
 * egress_reconcile_outcomes_total, and any news of it starts the waits over.
 *
 * The wait before is read from the order rather than kept in a field of its own: a deferral sets notBeforeMs to its
 * retryAtMs and updatedAtMs to its atMs, so while nothing else happened to the order since, notBeforeMs − updatedAtMs
 * is that wait. News of the order after it (a fill report, a move) moves updatedAtMs on and leaves what remained of
 * the wait, or nothing once it was due: the next wait is at most twice that, so news only ever shortens the back-off.
 * Both fields are kernel state already, so replay, a restored snapshot of any format and a standby reach the same
 * schedule; a field of its own would have needed a snapshot format whose older snapshots could not say its value
 * (it depends on which record of the order was last), and replay-verify would have found them differing from a replay.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { Order } from '../domain/orders.ts'
import type { Emitter } from './emit.ts'
import { nextRecheckMs, OVERFILL_RECHECK_MS_MAX } from './overfill-recheck.ts'
import type { KernelState } from './state.ts'

/** The longest wait between two questions about an Unknown order the venue's answers leave Unknown. */
export const RECONCILE_RECHECK_MS_MAX = OVERFILL_RECHECK_MS_MAX

/** Defers the Unknown order's next question: twice the wait it is under, from `reconcileRecheckMs` up to the bound. */
export function recheckLater(state: KernelState, emitter: Emitter, nowMs: number): void {
  // A recheck configured at 0 starts at 1 ms: twice 0 is 0, and the order was asked again at each answer, for good.
  const recheckMs = Math.max(1, state.config?.params.reconcileRecheckMs ?? 1_000)
  // News of the order in this decision (a trade booked, a move to Unknown) starts the waits over.
  const previousMs = emitter.events.some(isOrderNews) ? 0 : waitUnderMs(emitter.draft)
  const retryAtMs = nowMs + nextRecheckMs(previousMs, recheckMs)
  emitter.events.push({ type: 'order.reconcile_deferred', atMs: nowMs, orderId: emitter.draft.orderId, retryAtMs })
}

/** What was left, at the order's last record, of the wait it was put under (the whole wait when that record set it). */
export function waitUnderMs(order: Order): number {
  return Math.max(0, order.notBeforeMs - order.updatedAtMs)
}

/** An alert or a refused transition changes nothing of the order (apply.ts applies neither to it). */
function isOrderNews(event: DomainEvent): boolean {
  return event.type !== 'alert.raised' && event.type !== 'order.transition_refused'
}
