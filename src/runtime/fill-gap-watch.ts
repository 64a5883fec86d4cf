/**
 * Fill reports carry the venue's cumulative quantity. One that states more than egress has booked for its order shows
 * a gap: an earlier fill report is late (reordered) or lost. A late one closes the gap when it lands; a lost one never
 * does, and an order still getting fills is never quiet, so the open-order sweep (Gateway.sweep) would not read it back
 * until its fills stop — with the venue's order already complete, that wait was the only way back (simulation seed
 * 30601: the completing fill showed 1.57 against 1.557 booked). So a gap still open `graceMs` after it was seen has
 * the order read back at once (the executor's reconcile read-back books the missing trades). Runtime only: nothing is
 * logged, and a restart loses no fill, only the prompt read-back (the sweep still covers the order). What it does is
 * counted (`stats`, no order ids) for /metrics: egress_fill_gaps_* (src/http/fill-gap-metrics.ts).
 *
 * Bounded: at most one timer per order open at a venue (entries go when the order closes, Gateway's venueOpen). A
 * read-back never takes the last free call (Executor.callsBudgetLeft): it would hold new orders' sends, so the gap is
 * looked at again a grace later.
 */

import type { Clock } from '../domain/clock.ts'
import type { Units } from '../domain/decimal.ts'
import type { Order } from '../domain/orders.ts'
import { OPEN_AT_VENUE } from './bootstrap.ts'
import { readBackMayStart } from './read-back.ts'

/** How long a reordered fill report may take to arrive before its gap is taken for a lost one. */
export const FILL_GAP_GRACE_MS = 1_000

/** Running totals since start (never reset), read at scrape time. */
export interface FillGapStats {
  /** Gaps opened: a fill report stated more than egress had booked, for an order with no gap open. */
  suspected: number
  /** Gaps closed by the late report landing before the grace ran out: nothing read back. */
  resolvedByReport: number
  /** Gaps closed because the order left the venue's open orders first: nothing read back. */
  closedWithOrder: number
  /** Gaps still open after the grace: the order read back. */
  readBacks: number
  /** Times a due gap waited another grace because the call budget was too low for a read-back. */
  readBacksDeferred: number
}

interface Gap {
  /** The highest venue cumulative quantity a report stated. */
  venueCumQty: Units
  cancel: () => void
}

export class FillGapWatch {
  private readonly gaps = new Map<string, Gap>()
  readonly stats: FillGapStats = { suspected: 0, resolvedByReport: 0, closedWithOrder: 0, readBacks: 0, readBacksDeferred: 0 }
  private stopped = false
  private readonly clock: Clock
  private readonly graceMs: number
  private readonly orderOf: (orderId: string) => Order | undefined
  private readonly readBack: (orderId: string) => void
  /** Calls that may still start to the order's venue (Executor.callsLeftFor). */
  private readonly callsBudgetLeft: (orderId: string) => number

  constructor(options: {
    clock: Clock
    graceMs: number
    orderOf: (orderId: string) => Order | undefined
    readBack: (orderId: string) => void
    callsBudgetLeft: (orderId: string) => number
  }) {
    this.clock = options.clock
    this.graceMs = options.graceMs
    this.orderOf = options.orderOf
    this.readBack = options.readBack
    this.callsBudgetLeft = options.callsBudgetLeft
  }

  /** After a fill report for `orderId` was applied: is the venue ahead of egress's books? */
  noteFill(orderId: string, venueCumQty: Units): void {
    const order = this.orderOf(orderId)
    if (this.stopped || order === undefined || !OPEN_AT_VENUE.has(order.status) || venueCumQty <= order.cumQty) return
    const gap = this.gaps.get(orderId)
    if (gap !== undefined) {
      if (venueCumQty > gap.venueCumQty) gap.venueCumQty = venueCumQty
      return
    }
    const cancel = this.clock.schedule(this.graceMs, () => this.due(orderId))
    this.gaps.set(orderId, { venueCumQty, cancel })
    this.stats.suspected++
  }

  /** Gaps open now (at most one per order open at a venue). */
  get openCount(): number {
    return this.gaps.size
  }

  /** The order left the venue's open orders (ended, or Unknown and reconciled as such). */
  closed(orderId: string): void {
    const gap = this.gaps.get(orderId)
    if (gap === undefined) return
    gap.cancel()
    this.gaps.delete(orderId)
    this.stats.closedWithOrder++
  }

  /** Cancels every timer; later reports (their commits were under way) start none. */
  stop(): void {
    this.stopped = true
    for (const gap of this.gaps.values()) gap.cancel()
    this.gaps.clear()
  }

  private due(orderId: string): void {
    const gap = this.gaps.get(orderId)
    this.gaps.delete(orderId)
    const order = this.orderOf(orderId)
    if (gap === undefined) return
    if (order === undefined || !OPEN_AT_VENUE.has(order.status)) return void this.stats.closedWithOrder++
    if (order.cumQty >= gap.venueCumQty) return void this.stats.resolvedByReport++
    if (!readBackMayStart(this.callsBudgetLeft(orderId))) {
      gap.cancel = this.clock.schedule(this.graceMs, () => this.due(orderId))
      this.gaps.set(orderId, gap)
      this.stats.readBacksDeferred++
      return
    }
    this.stats.readBacks++
    this.readBack(orderId)
  }
}
