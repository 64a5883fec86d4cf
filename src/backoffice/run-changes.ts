/**
 * What happened to held orders while one reconcile run's venue checks were under way, that the run's look at the
 * orders as they were when it started cannot see any more (compared-window.ts): an ended order that reopened (its end
 * left the ended-order list, so what end time it had is kept here) and an ended order that got its first fill (a late
 * fill: it joins the list of ended orders with fills behind where the run's walk started). The held-order index
 * (held-order-index.ts) notes them into every run under way; a run stops being noted when its checks end.
 *
 * Both are rare (a reopening is venue news contradicting an end; a late fill raced a cancel), and each is bounded by
 * RUN_CHANGES_MAX per run. Past it, `overflowed` says so: the run then finds late-filled orders by walking the list of
 * ended orders with fills as it is when the trades check reads it, and takes an order that reopened unnoted as one that
 * ended within the venue's trade history (compared-window.ts).
 */

import type { TrackedOrder } from './orders.ts'

/** The most reopenings, and the most late first fills, one run keeps. */
export const RUN_CHANGES_MAX = 10_000

export class RunChanges {
  /** Orders that reopened since the run started → the end time each had then (the first reopening's). */
  readonly reopened = new Map<string, { order: TrackedOrder; endedAtMs: number | undefined }>()
  /** Ended orders whose first fill came since the run started. */
  readonly lateFilled = new Map<string, TrackedOrder>()
  reopenedOverflowed = false
  lateFilledOverflowed = false

  noteReopened(order: TrackedOrder, endedAtMs: number | undefined): void {
    if (this.reopened.has(order.orderId)) return
    if (this.reopened.size >= RUN_CHANGES_MAX) this.reopenedOverflowed = true
    else this.reopened.set(order.orderId, { order, endedAtMs })
  }

  noteLateFill(order: TrackedOrder): void {
    if (this.lateFilled.has(order.orderId)) return
    if (this.lateFilled.size >= RUN_CHANGES_MAX) this.lateFilledOverflowed = true
    else this.lateFilled.set(order.orderId, order)
  }
}
